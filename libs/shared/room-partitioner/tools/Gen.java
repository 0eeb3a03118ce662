// Prints murmur2 test vectors from Kafka's own Java implementation, as a TypeScript array literal for
// src/lib/room-partitioner.spec.ts. Re-run from the repo root after a broker upgrade:
//   java -cp "$(ls -d ~/.cache/seqcast/kafka-jars-*)/*" libs/shared/room-partitioner/tools/Gen.java
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;

public class Gen {
  static final String[] ROOMS = {
    // lengths 1..9 cover every tail case (len % 4 = 0..3) with and without a full 4-byte block
    "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "abcdefghi",
    "", "lobby", "room-1", "team-42:general", "A.b_c-d:e", "seqcast.messages",
    // multi-byte UTF-8, written as escapes so javac's platform encoding cannot mangle them:
    // "café-☕", "日本語ルーム", "emoji-🚀-room" (4-byte UTF-8 from a surrogate pair)
    "caf\u00e9-\u2615", "\u65e5\u672c\u8a9e\u30eb\u30fc\u30e0", "emoji-\ud83d\ude80-room", "\u00ff\u00fe\u0080", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz:0123456789",
  };
  static final int[] COUNTS = {1, 3, 12, 100};

  public static void main(String[] args) {
    String jar = Utils.class.getProtectionDomain().getCodeSource().getLocation().getPath();
    System.out.println("  // from " + jar.substring(jar.lastIndexOf('/') + 1));
    for (String room : ROOMS) {
      int hash = Utils.murmur2(room.getBytes(StandardCharsets.UTF_8));
      StringBuilder partitions = new StringBuilder();
      for (int n : COUNTS) {
        if (partitions.length() > 0) partitions.append(", ");
        partitions.append(Utils.toPositive(hash) % n);
      }
      System.out.println("  [" + jsString(room) + ", " + hash + ", [" + partitions + "]],");
    }
  }

  /** A JS string literal; non-ASCII as \\u escapes so the fixture survives any editor encoding. */
  static String jsString(String s) {
    StringBuilder out = new StringBuilder("'");
    for (char c : s.toCharArray()) {
      if (c == '\'' || c == '\\') out.append('\\').append(c);
      else if (c >= 0x20 && c < 0x7f) out.append(c);
      else out.append(String.format("\\u%04x", (int) c));
    }
    return out.append("'").toString();
  }
}
