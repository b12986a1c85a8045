//! How the lake's own plan nodes travel through Ballista: the client sends the scheduler a
//! logical plan, the scheduler sends the executors physical plans. Both codecs here encode the
//! lake's nodes ([`crate::table_write`]) and hand every other node to Ballista's codecs.
//!
//! Every process of a cluster must use them: the client ([`crate::engine::connect`] sets them in
//! the session), `lake-scheduler` and `lake-executor` (their `override_*_codec`), and the
//! in-process standalone (which takes them from the session). A process without them fails
//! the job with Ballista's "LogicalExtensionCodec is not provided" or an undecodable plan.
//!
//! A lake node is encoded as a tag followed by its fields; Ballista's own encodings are
//! protobuf messages, which never start with the tag's first byte (`l`, a protobuf group end).

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::table_write::{ParquetWriteExec, ParquetWriteNode};

/// The tag of an encoded [`ParquetWriteNode`] or [`ParquetWriteExec`]; the folder URL follows.
const PARQUET_WRITE_TAG: &[u8] = b"lake.ParquetWrite.v1\n";

fn encode_parquet_write(url: &str, buf: &mut Vec<u8>) {
    buf.extend_from_slice(PARQUET_WRITE_TAG);
    buf.extend_from_slice(url.as_bytes());
}

/// The folder URL of an encoded write, or `None` when `buf` encodes something else.
fn decode_parquet_write(buf: &[u8]) -> Option<Result<String>> {
    let url = buf.strip_prefix(PARQUET_WRITE_TAG)?;
    Some(String::from_utf8(url.to_vec()).map_err(|e| {
        DataFusionError::Internal(format!("the folder of a ParquetWrite is not UTF-8: {e}"))
    }))
}

fn one_input<T: Clone>(inputs: &[T], node: &str) -> Result<T> {
    match inputs {
        [input] => Ok(input.clone()),
        _ => Err(DataFusionError::Internal(format!(
            "{node} takes exactly one input, the plan gives {}",
            inputs.len()
        ))),
    }
}

/// Ballista's logical codec, plus the lake's nodes.
#[derive(Debug, Default)]
pub struct LakeLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LakeLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        match decode_parquet_write(buf) {
            Some(url) => Ok(Extension {
                node: Arc::new(ParquetWriteNode {
                    input: one_input(inputs, "ParquetWrite")?,
                    url: url?,
                }),
            }),
            None => self.ballista.try_decode(buf, inputs, ctx),
        }
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        match node.node.as_any().downcast_ref::<ParquetWriteNode>() {
            Some(write) => {
                encode_parquet_write(&write.url, buf);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf),
        }
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// Ballista's physical codec, plus the lake's nodes.
#[derive(Debug, Default)]
pub struct LakePhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for LakePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode_parquet_write(buf) {
            Some(url) => Ok(Arc::new(ParquetWriteExec::new(
                one_input(inputs, "ParquetWriteExec")?,
                url?,
            ))),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        match node.downcast_ref::<ParquetWriteExec>() {
            Some(write) => {
                encode_parquet_write(write.url(), buf);
                Ok(())
            }
            None => self.ballista.try_encode(node, buf, proto_converter),
        }
    }
}

/// The codecs every process of a lake cluster uses, for [`ballista_core::serde::BallistaCodec`]
/// and the `override_*_codec` settings.
pub fn logical() -> Arc<dyn LogicalExtensionCodec> {
    Arc::new(LakeLogicalCodec::default())
}

/// See [`logical`].
pub fn physical() -> Arc<dyn PhysicalExtensionCodec> {
    Arc::new(LakePhysicalCodec::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_round_trips_and_other_bytes_are_left_to_ballista() {
        let mut buf = Vec::new();
        encode_parquet_write("s3://bucket/silver/runs/r1/achats/", &mut buf);
        let decoded = decode_parquet_write(&buf).map(|url| url.ok());
        assert_eq!(
            decoded,
            Some(Some("s3://bucket/silver/runs/r1/achats/".to_string()))
        );
        assert!(decode_parquet_write(b"\x0a\x02ab").is_none());
        assert!(decode_parquet_write(&[]).is_none());
    }

    fn session() -> datafusion::prelude::SessionContext {
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_default_features()
            .with_query_planner(Arc::new(crate::table_write::LakeQueryPlanner))
            .build();
        datafusion::prelude::SessionContext::new_with_state(state)
    }

    const FOLDER: &str = "s3://lake/silver/runs/r1/achats/";

    #[tokio::test]
    async fn a_write_crosses_the_client_to_scheduler_hop_with_its_folder_and_input() {
        use datafusion_proto::bytes::{
            logical_plan_from_bytes_with_extension_codec,
            logical_plan_to_bytes_with_extension_codec,
        };
        let ctx = session();
        let query = ctx.sql("SELECT 1 AS x").await.expect("query");
        let plan = crate::table_write::write_plan(query.into_unoptimized_plan(), FOLDER);
        let codec = LakeLogicalCodec::default();
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &codec).expect("encode");
        let decoded = logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec)
            .expect("decode");
        let LogicalPlan::Extension(Extension { node }) = &decoded else {
            panic!("{decoded}");
        };
        let write = node
            .as_any()
            .downcast_ref::<ParquetWriteNode>()
            .expect("a ParquetWriteNode");
        assert_eq!(write.url, FOLDER);
        assert_eq!(
            decoded.display_indent().to_string(),
            plan.display_indent().to_string()
        );
    }

    #[tokio::test]
    async fn a_write_crosses_the_scheduler_to_executor_hop_with_its_folder_and_input() {
        use datafusion_proto::bytes::{
            physical_plan_from_bytes_with_extension_codec,
            physical_plan_to_bytes_with_extension_codec,
        };
        let ctx = session();
        let query = ctx.sql("SELECT 1 AS x").await.expect("query");
        let logical = crate::table_write::write_plan(query.into_unoptimized_plan(), FOLDER);
        let plan = ctx
            .state()
            .create_physical_plan(&logical)
            .await
            .expect("physical plan");
        let codec = LakePhysicalCodec::default();
        let bytes =
            physical_plan_to_bytes_with_extension_codec(plan.clone(), &codec).expect("encode");
        let decoded =
            physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec)
                .expect("decode");
        let write = decoded
            .downcast_ref::<ParquetWriteExec>()
            .expect("a ParquetWriteExec");
        assert_eq!(write.url(), FOLDER);
        let shown = |p: &Arc<dyn ExecutionPlan>| {
            datafusion::physical_plan::displayable(p.as_ref())
                .indent(false)
                .to_string()
        };
        assert_eq!(shown(&decoded), shown(&plan));
    }
}
