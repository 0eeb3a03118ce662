/** Who a verified token speaks for and which rooms it may read and write. */
export interface Principal {
  userId: string;
  roomPatterns: string[];
  expiresAt: Date;
}
