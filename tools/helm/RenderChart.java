import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Lints and renders helm/seqcast with the real Helm engine (helm-java, no helm binary needed), and
 * proves that bad values are rejected. Run by tools/helm/render.sh with the Java source launcher:
 *
 *   java -cp 'jars/*' RenderChart.java CHART_DIR VALUES_SETS_DIR INVALID_VALUES_DIR OUT_DIR [EXTRA_SETS_DIR]
 *
 * Writes, for the default values, every VALUES_SETS_DIR/<set>-values.yaml and every
 * EXTRA_SETS_DIR/<set>-values.yaml (sets that change what the chart deploys, e.g. a fourth service
 * as the service generator adds it; marked "extra" in the summary): OUT_DIR/<set>.yaml
 * (what `helm template` prints), OUT_DIR/<set>.hooks.yaml (the `helm test` hooks, which helm-java's
 * template leaves out, rendered from a copy of the chart with their hook annotations renamed) and
 * OUT_DIR/<set>.notes.txt (NOTES.txt, from a client-only dry-run install); plus OUT_DIR/summary.json
 * (lint messages, rendered sets, rejected sets) for the jest invariants in tools/deploy-checks. Each INVALID_VALUES_DIR/<name>.yaml must fail to render with an error that
 * contains the text of its "# expect: ..." line. Exits 1 if lint fails, a valid set does not render,
 * or an invalid set renders (or fails for another reason).
 */
public final class RenderChart {
  /** Recent enough for every API the chart uses; without it Helm assumes v1.20 and fails kubeVersion. */
  static final String KUBE_VERSION = "1.33.0";
  /** Chart.yaml's kubeVersion floor: the defaults are also rendered there to keep the floor honest. */
  static final String MIN_KUBE_VERSION = "1.25.0";
  static final String RELEASE = "chat";
  static final String NAMESPACE = "messaging";

  private final List<String> problems = new ArrayList<>();
  private final List<String> setsJson = new ArrayList<>();
  private final List<String> invalidJson = new ArrayList<>();

  public static void main(String[] args) throws IOException {
    if (args.length != 4 && args.length != 5) {
      System.err.println("usage: RenderChart CHART_DIR VALUES_SETS_DIR INVALID_VALUES_DIR OUT_DIR [EXTRA_SETS_DIR]");
      System.exit(2);
    }
    Path extraDir = args.length == 5 ? Path.of(args[4]) : null;
    System.exit(new RenderChart().run(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]), Path.of(args[3]), extraDir));
  }

  int run(Path chart, Path setsDir, Path invalidDir, Path out, Path extraDir) throws IOException {
    Files.createDirectories(out);
    try (Stream<Path> old = Files.list(out)) {
      for (Path p : old.toList()) Files.delete(p);
    }
    Helm helm = new Helm(chart);
    Path hooksChart = copyWithHooksAsManifests(chart);
    Helm hooksHelm = new Helm(hooksChart);

    LintResult lint = helm.lint().strict().call();
    for (String message : lint.getMessages()) System.out.println("lint: " + message);
    if (lint.isFailed()) problems.add("helm lint --strict failed: " + lint.getMessages());
    System.out.println("lint --strict: " + (lint.isFailed() ? "FAILED" : "ok"));

    render(helm, hooksHelm, out, "defaults", null, KUBE_VERSION, false);
    render(helm, hooksHelm, out, "defaults-kube-min", null, MIN_KUBE_VERSION, false);
    for (Path file : list(setsDir, "-values.yaml")) {
      String name = file.getFileName().toString().replaceFirst("-values\\.yaml$", "");
      render(helm, hooksHelm, out, name, file, KUBE_VERSION, false);
    }
    if (extraDir != null) {
      for (Path file : list(extraDir, "-values.yaml")) {
        String name = file.getFileName().toString().replaceFirst("-values\\.yaml$", "");
        render(helm, hooksHelm, out, name, file, KUBE_VERSION, true);
      }
    }
    for (Path file : list(invalidDir, ".yaml")) reject(helm, file);
    deleteTree(hooksChart.getParent());

    String summary = "{\n"
        + "  \"kubeVersion\": " + json(KUBE_VERSION) + ",\n"
        + "  \"release\": " + json(RELEASE) + ",\n"
        + "  \"namespace\": " + json(NAMESPACE) + ",\n"
        + "  \"lint\": {\"failed\": " + lint.isFailed() + ", \"messages\": " + jsonList(lint.getMessages()) + "},\n"
        + "  \"sets\": [\n    " + String.join(",\n    ", setsJson) + "\n  ],\n"
        + "  \"invalid\": [\n    " + String.join(",\n    ", invalidJson) + "\n  ],\n"
        + "  \"problems\": " + jsonList(problems) + "\n"
        + "}\n";
    Files.writeString(out.resolve("summary.json"), summary, StandardCharsets.UTF_8);

    if (problems.isEmpty()) {
      System.out.println("chart: lint ok, " + setsJson.size() + " values sets rendered, " + invalidJson.size()
          + " bad values sets rejected (" + out + ")");
      return 0;
    }
    for (String problem : problems) System.err.println("chart check failed: " + problem);
    return 1;
  }

  private void render(Helm helm, Helm hooksHelm, Path out, String name, Path valuesFile, String kubeVersion, boolean extra)
      throws IOException {
    try {
      var template = helm.template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(kubeVersion);
      var hooks = hooksHelm.template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(kubeVersion);
      var install = helm.install().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(kubeVersion)
          .dryRun().withDryRunOption(DryRun.CLIENT).clientOnly();
      if (valuesFile != null) {
        template = template.withValuesFile(valuesFile);
        hooks = hooks.withValuesFile(valuesFile);
        install = install.withValuesFile(valuesFile);
      }
      String file = name + ".yaml";
      Files.writeString(out.resolve(file), template.call(), StandardCharsets.UTF_8);
      Files.writeString(out.resolve(name + ".hooks.yaml"), onlyTestHooks(hooks.call()), StandardCharsets.UTF_8);
      String report = install.call().getOutput();
      int notes = report.indexOf("NOTES:\n");
      Files.writeString(out.resolve(name + ".notes.txt"), notes < 0 ? "" : report.substring(notes + 7), StandardCharsets.UTF_8);
      setsJson.add("{\"name\": " + json(name) + ", \"valuesFile\": " + (valuesFile == null ? "null" : json(valuesFile.toString()))
          + ", \"kubeVersion\": " + json(kubeVersion) + ", \"file\": " + json(file)
          + ", \"hooksFile\": " + json(name + ".hooks.yaml") + ", \"notesFile\": " + json(name + ".notes.txt")
          + ", \"extra\": " + extra + "}");
      System.out.println("rendered " + name + (valuesFile == null ? " (default values)" : " (" + valuesFile + ")"));
    } catch (RuntimeException e) {
      problems.add("values set '" + name + "' does not render: " + e.getMessage());
    }
  }

  /** The documents rendered from templates/tests/ (Helm prefixes each with a "# Source:" comment). */
  private static String onlyTestHooks(String manifest) {
    StringBuilder sb = new StringBuilder();
    for (String doc : manifest.split("(?m)^---\\s*$")) {
      if (doc.contains("# Source: ") && doc.matches("(?s).*# Source: [^\\n]*/templates/tests/.*")) sb.append("---").append(doc);
    }
    return sb.toString();
  }

  /**
   * A temporary copy of the chart whose test templates have their "helm.sh/hook*" annotations
   * renamed, so that `template` renders them as ordinary manifests to be validated like the rest.
   */
  private static Path copyWithHooksAsManifests(Path chart) throws IOException {
    Path copy = Files.createTempDirectory("seqcast-chart-hooks-").resolve(chart.getFileName());
    try (Stream<Path> files = Files.walk(chart)) {
      for (Path source : files.toList()) {
        Path target = copy.resolve(chart.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else if (chart.relativize(source).startsWith(Path.of("templates", "tests"))) {
          // Renamed rather than dropped, so the annotations map stays a map.
          Files.writeString(target, Files.readString(source, StandardCharsets.UTF_8).replace("helm.sh/hook", "render.seqcast.io/hook"),
              StandardCharsets.UTF_8);
        } else {
          Files.copy(source, target);
        }
      }
    }
    return copy;
  }

  private void reject(Helm helm, Path file) throws IOException {
    String name = file.getFileName().toString().replaceFirst("\\.yaml$", "");
    String expected = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
        .filter(line -> line.startsWith("# expect:"))
        .map(line -> line.substring("# expect:".length()).trim())
        .findFirst().orElse(null);
    if (expected == null) {
      problems.add(file + " has no '# expect: <error text>' line");
      return;
    }
    String message;
    boolean rejected;
    try {
      helm.template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(KUBE_VERSION).withValuesFile(file).call();
      rejected = false;
      message = "";
      problems.add("bad values set '" + name + "' rendered without error (expected: " + expected + ")");
    } catch (RuntimeException e) {
      rejected = true;
      message = e.getMessage() == null ? e.toString() : e.getMessage();
      if (!message.contains(expected)) {
        problems.add("bad values set '" + name + "' failed for another reason than expected (" + expected + "): " + message);
      }
    }
    invalidJson.add("{\"name\": " + json(name) + ", \"expected\": " + json(expected) + ", \"rejected\": " + rejected
        + ", \"message\": " + json(message) + "}");
    System.out.println("rejected " + name + ": " + (rejected ? firstLine(message, expected) : "NOT REJECTED"));
  }

  private static String firstLine(String message, String expected) {
    return message.lines().filter(l -> l.contains(expected)).findFirst().orElse(message.lines().findFirst().orElse("")).trim();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }

  private static List<Path> list(Path dir, String suffix) throws IOException {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  private static String jsonList(List<String> values) {
    List<String> quoted = new ArrayList<>();
    for (String v : values) quoted.add(json(v));
    return "[" + String.join(", ", quoted) + "]";
  }

  private static String json(String value) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }
}
