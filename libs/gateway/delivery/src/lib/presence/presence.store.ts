/**
 * Presence rows in PostgreSQL (migration Presence1765180800000): one row per socket per room,
 * tagged with the gateway incarnation that holds it, and one lease per gateway incarnation.
 * Lease expiry is judged by the database's clock (`now()`), so gateways' clocks never matter.
 */
import type { DataSource } from 'typeorm';

export interface PresenceRow {
  roomId: string;
  userId: string;
  since: Date;
}

export interface RoomMembers {
  /** Ascending userId, at most the limit asked for. */
  members: { userId: string; since: Date }[];
  truncated: boolean;
}

export class PresenceStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Renews (or creates) the lease; true if the lease had lapsed or did not exist (rows may have been swept). */
  async renewLease(gatewayId: string, ttlMs: number): Promise<boolean> {
    const rows: { lapsed: boolean }[] = await this.dataSource.query(
      `WITH previous AS (
         SELECT expires_at FROM seqcast_gateway_leases WHERE gateway_id = $1
       ), renewed AS (
         INSERT INTO seqcast_gateway_leases (gateway_id, expires_at)
         VALUES ($1, now() + make_interval(secs => $2::double precision / 1000))
         ON CONFLICT (gateway_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
         RETURNING gateway_id
       )
       SELECT NOT EXISTS (SELECT 1 FROM previous WHERE expires_at > now()) AS lapsed FROM renewed`,
      [gatewayId, ttlMs],
    );
    return rows[0]?.lapsed ?? true;
  }

  /**
   * Deletes the expired leases and, in the same statement, the rows of those gateways (by the
   * gateway index, not a scan of every row). Returns rows deleted. Rows whose gateway has no live
   * lease never count in `members` even before this runs.
   */
  async sweep(): Promise<number> {
    const deleted: unknown[] = await this.dataSource.query(
      `WITH dead AS (DELETE FROM seqcast_gateway_leases WHERE expires_at <= now() RETURNING gateway_id)
       DELETE FROM seqcast_presence WHERE gateway_id IN (SELECT gateway_id FROM dead) RETURNING 1`,
    );
    return deleted.length;
  }

  async join(gatewayId: string, connectionId: string, roomId: string, userId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO seqcast_presence (room_id, user_id, gateway_id, connection_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [roomId, userId, gatewayId, connectionId],
    );
  }

  /** Re-inserts every row this gateway holds (after its lease lapsed and a sweep may have taken them). */
  async rejoinAll(gatewayId: string, rows: { connectionId: string; roomId: string; userId: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO seqcast_presence (room_id, user_id, gateway_id, connection_id)
       SELECT r, u, $1, c FROM unnest($2::text[], $3::text[], $4::text[]) AS t(r, u, c)
       ON CONFLICT DO NOTHING`,
      [gatewayId, rows.map((r) => r.roomId), rows.map((r) => r.userId), rows.map((r) => r.connectionId)],
    );
  }

  async leave(gatewayId: string, connectionId: string, roomId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM seqcast_presence WHERE gateway_id = $1 AND connection_id = $2 AND room_id = $3`,
      [gatewayId, connectionId, roomId],
    );
  }

  /** Every room of one connection at once (it disconnected): one statement, not one per room. */
  async leaveAll(gatewayId: string, connectionId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM seqcast_presence WHERE gateway_id = $1 AND connection_id = $2`, [
      gatewayId,
      connectionId,
    ]);
  }

  /** Ends this gateway incarnation's presence at once (graceful shutdown). */
  async release(gatewayId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM seqcast_presence WHERE gateway_id = $1`, [gatewayId]);
    await this.dataSource.query(`DELETE FROM seqcast_gateway_leases WHERE gateway_id = $1`, [gatewayId]);
  }

  /**
   * Distinct members of each room, ascending userId, at most `limit` per room (one more is read to
   * tell a truncated list). Rows of gateways whose lease lapsed are not counted even before a sweep.
   */
  async members(roomIds: readonly string[], limit: number): Promise<Map<string, RoomMembers>> {
    const result = new Map<string, RoomMembers>();
    for (const roomId of roomIds) result.set(roomId, { members: [], truncated: false });
    if (roomIds.length === 0) return result;
    const rows: { room_id: string; user_id: string; since: Date }[] = await this.dataSource.query(
      `SELECT room_id, user_id, since FROM (
         SELECT room_id, user_id, since, row_number() OVER (PARTITION BY room_id ORDER BY user_id) AS n FROM (
           SELECT p.room_id, p.user_id, min(p.joined_at) AS since
             FROM seqcast_presence p
             JOIN seqcast_gateway_leases l ON l.gateway_id = p.gateway_id AND l.expires_at > now()
            WHERE p.room_id = ANY($1::text[])
            GROUP BY p.room_id, p.user_id) AS users) AS ranked
        WHERE n <= $2
        ORDER BY room_id, user_id`,
      [roomIds, limit + 1],
    );
    for (const row of rows) {
      const room = result.get(row.room_id);
      if (!room) continue;
      if (room.members.length === limit) room.truncated = true;
      else room.members.push({ userId: row.user_id, since: new Date(row.since) });
    }
    return result;
  }
}
