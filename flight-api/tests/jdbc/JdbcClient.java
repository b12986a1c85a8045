// A JDBC tool's session against the Flight SQL gateway, with the Arrow Flight SQL JDBC driver:
// the metadata calls BI tools (DBeaver, Tableau, Metabase) make when they connect, a plain query
// and prepared statements with `?` parameters. Prints one `key: value` line per answer for
// flight-api/tests/jdbc.rs to check; any SQLException ends the run with its message.
//
// Run: java --add-opens=java.base/java.nio=ALL-UNNAMED -cp flight-sql-jdbc-driver.jar \
//        JdbcClient.java HOST:PORT [TOKEN]

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public final class JdbcClient {
  private JdbcClient() {}

  public static void main(String[] args) throws SQLException {
    if (args.length < 1) {
      System.err.println("usage: JdbcClient HOST:PORT [TOKEN]");
      System.exit(2);
    }
    String url = "jdbc:arrow-flight-sql://" + args[0] + "?useEncryption=false";
    Properties properties = new Properties();
    if (args.length > 1) {
      properties.setProperty("token", args[1]);
    }
    try (Connection connection = DriverManager.getConnection(url, properties)) {
      DatabaseMetaData meta = connection.getMetaData();
      print("catalogs", column(meta.getCatalogs(), "TABLE_CAT"));
      print("schemas", column(meta.getSchemas(), "TABLE_SCHEM"));
      print("table types", column(meta.getTableTypes(), "TABLE_TYPE"));
      List<String> tables = new ArrayList<>();
      try (ResultSet rows = meta.getTables(null, "gold", "fact%", null)) {
        while (rows.next()) {
          tables.add(rows.getString("TABLE_SCHEM") + "." + rows.getString("TABLE_NAME") + " "
              + rows.getString("TABLE_TYPE"));
        }
      }
      print("gold tables like fact%", tables);
      List<String> columns = new ArrayList<>();
      try (ResultSet rows = meta.getColumns(null, "gold", "fact_achats", "%")) {
        while (rows.next()) {
          columns.add(rows.getString("COLUMN_NAME"));
        }
      }
      print("columns of gold.fact_achats", columns);
      print("primary keys of gold.fact_achats",
          List.of(String.valueOf(count(meta.getPrimaryKeys(null, "gold", "fact_achats")))));
      print("imported keys of gold.fact_achats",
          List.of(String.valueOf(count(meta.getImportedKeys(null, "gold", "fact_achats")))));

      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery(
              "SELECT COUNT(*) AS n, SUM(montant) AS ca FROM gold.fact_achats")) {
        rows.next();
        print("all purchases", List.of(rows.getLong("n") + " " + rows.getBigDecimal("ca")));
      }
      String ofClient =
          "SELECT COUNT(*) AS n, SUM(montant) AS ca FROM gold.fact_achats WHERE id_client = ?";
      try (PreparedStatement statement = connection.prepareStatement(ofClient)) {
        for (long client : new long[] {1, 4}) {
          statement.setLong(1, client);
          try (ResultSet rows = statement.executeQuery()) {
            rows.next();
            print("purchases of client " + client,
                List.of(rows.getLong("n") + " " + rows.getBigDecimal("ca")));
          }
        }
      }
      String ofProduct = "SELECT id_achat FROM gold.fact_achats WHERE produit = ? "
          + "AND montant >= ? ORDER BY id_achat";
      try (PreparedStatement statement = connection.prepareStatement(ofProduct)) {
        statement.setString(1, "Livre");
        statement.setBigDecimal(2, new java.math.BigDecimal("30.00"));
        print("Livre from 30.00", column(statement.executeQuery(), "id_achat"));
      }
    } catch (SQLException e) {
      System.err.println("SQLException: " + e.getMessage());
      for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
        System.err.println("  caused by: " + cause);
      }
      System.exit(1);
    }
  }

  private static List<String> column(ResultSet rows, String name) throws SQLException {
    List<String> values = new ArrayList<>();
    try (rows) {
      while (rows.next()) {
        values.add(rows.getString(name));
      }
    }
    return values;
  }

  private static int count(ResultSet rows) throws SQLException {
    int n = 0;
    try (rows) {
      while (rows.next()) {
        n++;
      }
    }
    return n;
  }

  private static void print(String key, List<String> values) {
    System.out.println(key + ": " + String.join(", ", values));
  }
}
