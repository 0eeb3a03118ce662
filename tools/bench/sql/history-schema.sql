-- seqcast_messages and seqcast_partition_positions as libs/platform/persistence's migrations create them.
CREATE TABLE seqcast_messages (
  epoch text NOT NULL,
  room_id text NOT NULL,
  seq bigint NOT NULL,
  prev_seq bigint,
  partition integer NOT NULL,
  client_msg_id text NOT NULL,
  sender_id text NOT NULL,
  payload jsonb NOT NULL,
  sent_at timestamptz NOT NULL,
  sequenced_at timestamptz NOT NULL,
  CONSTRAINT pk_seqcast_messages PRIMARY KEY (epoch, room_id, seq),
  CONSTRAINT uq_seqcast_messages_client_msg UNIQUE (epoch, room_id, client_msg_id)
);
CREATE INDEX ix_seqcast_messages_partition_seq ON seqcast_messages (epoch, partition, seq);
CREATE INDEX ix_seqcast_messages_sequenced_at ON seqcast_messages (sequenced_at);
CREATE TABLE seqcast_partition_positions (
  epoch text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  published_offset bigint NOT NULL,
  generation bigint NOT NULL,
  owner text NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT pk_seqcast_partition_positions PRIMARY KEY (epoch, topic, partition)
);
INSERT INTO seqcast_partition_positions SELECT 'e1', 'bench', p, 0, 0, 0, 'bench', now() FROM generate_series(0, 11) p;
CREATE SEQUENCE bench_offsets;
