//! Apache Kafka in KRaft combined mode (one broker that is its own controller), from the jars
//! `scripts/ensure-test-servers.sh` copies from Maven Central, in a fresh folder per server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::{free_port, installed_tool, wait_for_port};

/// The Kafka version the script installs (keep in step with scripts/kafka/pom.xml).
pub const KAFKA_VERSION: &str = "4.1.1";

/// A single-node Kafka broker (KRaft) on free loopback ports, stopped on drop.
pub struct Kafka {
    child: Option<Child>,
    dir: PathBuf,
    /// Its client (PLAINTEXT) port on loopback.
    pub port: u16,
}

fn libs() -> PathBuf {
    let jar = installed_tool(
        "LAKE_TOOLS_DIR",
        "lake-tools",
        &format!("kafka-{KAFKA_VERSION}/libs/kafka_2.13-{KAFKA_VERSION}.jar"),
        "scripts/ensure-test-servers.sh",
    );
    jar.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl Kafka {
    /// Formats a new log folder under `dir` and starts the broker on free ports.
    pub fn start(dir: &Path) -> Self {
        let dir = dir.join("kafka");
        std::fs::create_dir_all(&dir).expect("kafka folder");
        let (port, controller) = (free_port(), free_port());
        let properties = format!(
            "process.roles=broker,controller\n\
             node.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             log.dirs={}\n\
             offsets.topic.replication.factor=1\n\
             offsets.topic.num.partitions=4\n\
             transaction.state.log.replication.factor=1\n\
             transaction.state.log.min.isr=1\n\
             group.initial.rebalance.delay.ms=0\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("server.properties"), properties).expect("server.properties");
        std::fs::write(
            dir.join("log4j2.properties"),
            "rootLogger.level = WARN\n\
             rootLogger.appenderRef.out.ref = out\n\
             appender.out.type = Console\n\
             appender.out.name = out\n\
             appender.out.layout.type = PatternLayout\n\
             appender.out.layout.pattern = [%d] %p %m (%c)%n\n",
        )
        .expect("log4j2.properties");
        let classpath = format!("{}/*", libs().display());
        let format = Command::new("java")
            .args(["-cp", &classpath, "kafka.tools.StorageTool", "format"])
            .args(["-t", "lake-test-cluster-0001", "-c"])
            .arg(dir.join("server.properties"))
            .output()
            .expect("java runs");
        assert!(
            format.status.success(),
            "formatting the Kafka log folder failed:\n{}",
            String::from_utf8_lossy(&format.stderr)
        );
        let log = std::fs::File::create(dir.join("kafka.log")).expect("log file");
        let child = Command::new("java")
            .arg("-Xmx512m")
            .arg(format!(
                "-Dlog4j2.configurationFile={}",
                dir.join("log4j2.properties").display()
            ))
            .args(["-cp", &classpath, "kafka.Kafka"])
            .arg(dir.join("server.properties"))
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("kafka starts");
        let server = Self {
            child: Some(child),
            dir,
            port,
        };
        wait_for_port(port, Duration::from_secs(60), "Kafka", &server.log_path());
        server
    }

    /// The bootstrap servers string for clients.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's log file, to show when a test fails.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("kafka.log")
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
