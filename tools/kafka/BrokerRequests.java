// Prints the local broker's request counts per API since it started (kafka.network RequestMetrics
// RequestsPerSec Count, over every version), read over JMX from the JVM on this host (attach API, so
// no JMX port is needed). Run by `tools/kafka/kafka.sh requests`; subtract two readings taken around
// a run to see what a load sent to the broker.
import com.sun.tools.attach.VirtualMachine;
import java.util.Map;
import java.util.TreeMap;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerRequests {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: java BrokerRequests.java <broker pid>");
      System.exit(2);
    }
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(vm.startLocalManagementAgent()))) {
      MBeanServerConnection server = connector.getMBeanServerConnection();
      Map<String, Long> counts = new TreeMap<>();
      for (ObjectName name : server.queryNames(new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
        long count = ((Number) server.getAttribute(name, "Count")).longValue();
        counts.merge(name.getKeyProperty("request"), count, Long::sum);
      }
      counts.forEach((request, count) -> {
        if (count > 0) System.out.println(request + " " + count);
      });
    } finally {
      vm.detach();
    }
  }
}
