//! `lake bench refresh | stream`: the benchmarks of crate lake-bench, from the command line's
//! arguments.

use anyhow::Result;
use lake_bench::refresh::RefreshConfig;
use lake_bench::stream::StreamBenchConfig;
use lake_bench::{Kafka, LakeLocation, Mongo};

use crate::args::{KafkaArgs, LakeArgs, MongoArgs, RefreshArgs, StreamBenchArgs};
use crate::lake_access::{lake_options, open_lake};

fn mongo(args: &MongoArgs) -> Mongo {
    Mongo {
        mongo_url: args.mongo_url.clone(),
        mongo_db: args.mongo_db.clone(),
    }
}

fn kafka(args: &KafkaArgs) -> Kafka {
    Kafka {
        brokers: args.brokers.clone(),
        topic: args.topic.clone(),
    }
}

/// `lake bench refresh`.
pub(crate) async fn refresh(lake_args: &LakeArgs, args: &RefreshArgs) -> Result<()> {
    let lake = open_lake(lake_args).await?;
    let location = LakeLocation {
        lake: lake_args.lake.clone(),
        s3: lake_options(lake_args)?.s3,
    };
    let config = RefreshConfig {
        mongo: mongo(&args.mongo),
        api: args.api.clone(),
        loads: args.loads,
        out: args.out.clone(),
        label: args.label.clone(),
    };
    lake_bench::refresh::run(&location, &lake, &config).await
}

/// `lake bench stream`.
pub(crate) async fn stream(args: &StreamBenchArgs) -> Result<()> {
    let config = StreamBenchConfig {
        kafka: kafka(&args.kafka),
        mongo: mongo(&args.mongo),
        events: args.events,
        rate: args.rate,
        seconds: args.seconds,
        window: args.window,
        lateness: args.lateness,
        runs: args.runs,
        out: args.out.clone(),
        label: args.label.clone(),
    };
    lake_bench::stream::run(&config).await
}
