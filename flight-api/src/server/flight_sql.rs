//! Arrow Flight SQL over the served version of the lake (`silver.*`, `gold.*`, ML tables in
//! `gold.*`), with DataFusion: queries, prepared statements (with `$1`, `$2`, … parameters, or
//! JDBC's `?`), and the catalog, schema, table, table-type, key and SQL-info listings that ADBC
//! and JDBC clients ask for (the lake declares no keys: those listings are empty). Read-only:
//! DDL, DML and statements are refused. An optional bearer token guards every call, and every
//! query runs within the gateway's limits ([`super::limits`]): memory, slots, time, rows.
//!
//! Tickets and prepared-statement handles carry the SQL text (and bound parameter values, see
//! [`super::prepared`]), so the gateway keeps no per-client state and any instance can answer
//! any ticket.

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::server::PeekableFlightDataStream;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetCrossReference,
    CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys, CommandGetPrimaryKeys,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest, HandshakeResponse,
    IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::common::TableReference;
use datafusion::dataframe::DataFrame;
use datafusion::execution::context::SQLOptions;
use futures::{Stream, TryStreamExt, stream};
use prost::Message;
use tonic::{Request, Response, Status};

use super::limits::{Admission, QueryLimits, interruptible, query_status};
use super::plain_types::{plain_schema, with_plain_types};
use super::prepared::{PreparedStatement, numbered_placeholders, parameter_schema, sql_text};
use crate::metrics::GatewayMetrics;
use crate::secret::Secret;
use crate::store::StoreError;
use crate::store::lake::{LakeStore, Loaded};

/// The catalog every table is in (DataFusion's default).
const CATALOG: &str = "datafusion";
/// Schemas the gateway lists.
const SCHEMAS: [&str; 2] = ["gold", "silver"];
/// The only kind of table the gateway lists (published Parquet tables).
const TABLE_TYPE: &str = "TABLE";

type DoGetStream = Pin<Box<dyn Stream<Item = Result<arrow_flight::FlightData, Status>> + Send>>;

pub struct FlightSqlGateway {
    store: Arc<LakeStore>,
    /// When set, every call must carry `authorization: Bearer <token>`.
    token: Option<Secret>,
    sql_info: Arc<SqlInfoData>,
    admission: Admission,
}

impl FlightSqlGateway {
    pub fn new(
        store: Arc<LakeStore>,
        token: Option<Secret>,
        limits: QueryLimits,
        metrics: Arc<GatewayMetrics>,
    ) -> Result<Self, FlightError> {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "lake Flight SQL gateway");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
        info.append(SqlInfo::FlightSqlServerReadOnly, true);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0_i32);
        info.append(SqlInfo::FlightSqlServerCancel, false);
        let sql_info = Arc::new(info.build()?);
        Ok(Self {
            store,
            token,
            sql_info,
            admission: Admission::new(limits, metrics),
        })
    }

    pub fn into_service(self) -> FlightServiceServer<Self> {
        FlightServiceServer::new(self)
    }

    #[allow(clippy::result_large_err)]
    fn check<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let given = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given.is_some_and(|given| token.matches(given)) {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "missing or wrong bearer token (authorization: Bearer <token>)",
            ))
        }
    }

    async fn version(&self) -> Result<Arc<Loaded>, Status> {
        self.store.current().await.map_err(|e| match e {
            StoreError::Unavailable { .. } | StoreError::NotPublished(_) => {
                Status::unavailable(e.to_string())
            }
            other => Status::internal(other.to_string()),
        })
    }

    /// Plans a read-only query on the served version.
    async fn plan(&self, sql: &str) -> Result<DataFrame, Status> {
        let version = self.version().await?;
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = version
            .sql_session()
            .sql_with_options(sql, read_only)
            .await
            .map_err(|e| Status::invalid_argument(format!("{e}")))?;
        with_plain_types(df).map_err(|e| Status::internal(format!("{e}")))
    }

    /// Plans a prepared statement with its bound values.
    async fn plan_prepared(&self, statement: &PreparedStatement) -> Result<DataFrame, Status> {
        let df = self.plan(&statement.sql).await?;
        match statement.values_for(df.logical_plan())? {
            None => Ok(df),
            Some(values) => df
                .with_param_values(values)
                .map_err(|e| Status::invalid_argument(format!("{e}"))),
        }
    }

    async fn stream_query(&self, sql: &str) -> Result<Response<DoGetStream>, Status> {
        let df = self.plan(sql).await?;
        self.stream(df).await
    }

    /// Runs a query in a slot of the gateway, within its limits, as a stream of Flight data.
    async fn stream(&self, df: DataFrame) -> Result<Response<DoGetStream>, Status> {
        let slot = self.admission.admit().await?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await.map_err(query_status)?;
        let plan = interruptible(plan).map_err(query_status)?;
        let batches =
            datafusion::physical_plan::execute_stream(plan, task).map_err(query_status)?;
        let batches = self
            .admission
            .bound(batches, slot)
            .map_err(FlightError::from);
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(Status::from);
        Ok(Response::new(Box::pin(flight)))
    }

    fn no_foreign_keys() -> Response<DoGetStream> {
        Self::one_batch(RecordBatch::new_empty(Arc::new(foreign_keys_schema())))
    }

    fn one_batch(batch: RecordBatch) -> Response<DoGetStream> {
        let flight = FlightDataEncoderBuilder::new()
            .with_schema(batch.schema())
            .build(stream::once(async { Ok(batch) }))
            .map_err(Status::from);
        Response::new(Box::pin(flight))
    }
}

/// The result schema of `CommandGetPrimaryKeys` (Flight SQL's `FlightSql.proto`).
fn primary_keys_schema() -> Schema {
    Schema::new(vec![
        Field::new("catalog_name", DataType::Utf8, true),
        Field::new("db_schema_name", DataType::Utf8, true),
        Field::new("table_name", DataType::Utf8, false),
        Field::new("column_name", DataType::Utf8, false),
        Field::new("key_name", DataType::Utf8, true),
        Field::new("key_sequence", DataType::Int32, false),
    ])
}

/// The result schema of `CommandGetImportedKeys`, `CommandGetExportedKeys` and
/// `CommandGetCrossReference` (Flight SQL's `FlightSql.proto`).
fn foreign_keys_schema() -> Schema {
    let name = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Schema::new(vec![
        name("pk_catalog_name", true),
        name("pk_db_schema_name", true),
        name("pk_table_name", false),
        name("pk_column_name", false),
        name("fk_catalog_name", true),
        name("fk_db_schema_name", true),
        name("fk_table_name", false),
        name("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        name("fk_key_name", true),
        name("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ])
}

#[allow(clippy::result_large_err)]
fn flight_info(
    schema: &Schema,
    ticket: Vec<u8>,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(format!("cannot encode the schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor);
    Ok(Response::new(info))
}

#[tonic::async_trait]
impl FlightSqlService for FlightSqlGateway {
    type FlightService = FlightSqlGateway;

    /// JDBC's driver shakes hands when given a token: the bearer token is checked, and given
    /// back for the calls that follow (the client keeps whatever the server returns).
    async fn do_handshake(
        &self,
        request: Request<tonic::Streaming<HandshakeRequest>>,
    ) -> Result<
        Response<Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>>,
        Status,
    > {
        self.check(&request)?;
        let authorization = request.metadata().get("authorization").cloned();
        let done = HandshakeResponse {
            protocol_version: 0,
            payload: Default::default(),
        };
        let mut response: Response<Pin<Box<dyn Stream<Item = _> + Send>>> =
            Response::new(Box::pin(stream::once(async { Ok(done) })));
        if let Some(authorization) = authorization {
            response
                .metadata_mut()
                .insert("authorization", authorization);
        }
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let df = self.plan(&query.query).await?;
        let ticket = TicketStatementQuery {
            statement_handle: query.query.into_bytes().into(),
        };
        flight_info(
            &df.schema().as_arrow().clone(),
            ticket.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        self.stream_query(&sql_text(&ticket.statement_handle)?)
            .await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        self.check(&request)?;
        // JDBC and ODBC clients write `?`; the handle carries the `$n` form DataFusion plans.
        let sql = numbered_placeholders(&query.query)?;
        let df = self.plan(&sql).await?;
        let schema = df.schema().as_arrow().clone();
        let parameters = parameter_schema(df.logical_plan())?;
        let encode = |schema: &Schema| -> Result<_, Status> {
            let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
                .try_into()
                .map_err(|e: datafusion::arrow::error::ArrowError| {
                    Status::internal(format!("cannot encode the schema: {e}"))
                })?;
            Ok(bytes)
        };
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: sql.into_bytes().into(),
            dataset_schema: encode(&schema)?,
            parameter_schema: if parameters.fields().is_empty() {
                Default::default()
            } else {
                encode(&parameters)?
            },
        })
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        self.check(&request)?;
        let statement = PreparedStatement::decode(&query.prepared_statement_handle)?;
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(
            request.into_inner().map_err(FlightError::from),
        )
        .try_collect()
        .await
        .map_err(|e| Status::invalid_argument(format!("reading the parameters: {e}")))?;
        let bound = statement.bind(&batches)?;
        // Planning (optimizer included) now reports a wrong type or count of values at bind
        // time, as a bad argument, rather than as a failure of the later fetch.
        self.plan_prepared(&bound)
            .await?
            .create_physical_plan()
            .await
            .map_err(|e| Status::invalid_argument(format!("the bound parameters: {e}")))?;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(bound.encode()?.into()),
        })
    }

    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let statement = PreparedStatement::decode(&command.prepared_statement_handle)?;
        let df = self.plan_prepared(&statement).await?;
        flight_info(
            &df.schema().as_arrow().clone(),
            command.as_any().encode_to_vec(),
            request.into_inner(),
        )
    }

    async fn do_get_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let statement = PreparedStatement::decode(&command.prepared_statement_handle)?;
        self.stream(self.plan_prepared(&statement).await?).await
    }

    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        // Handles are the SQL itself: nothing to free.
        self.check(&request)
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&query.into_builder().schema(), ticket, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let mut builder = query.into_builder();
        builder.append(CATALOG);
        Ok(Self::one_batch(builder.build().map_err(Status::from)?))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&query.into_builder().schema(), ticket, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let mut builder = query.into_builder();
        for schema in SCHEMAS {
            builder.append(CATALOG, schema);
        }
        Ok(Self::one_batch(builder.build().map_err(Status::from)?))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&query.into_builder().schema(), ticket, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let version = self.version().await?;
        let ctx = version.sql_session();
        let mut builder = query.into_builder();
        let catalog = ctx
            .catalog(CATALOG)
            .ok_or_else(|| Status::internal("the session has no default catalog"))?;
        for schema_name in SCHEMAS {
            let Some(schema) = catalog.schema(schema_name) else {
                continue;
            };
            let mut tables = schema.table_names();
            tables.sort();
            for table in tables {
                let provider = ctx
                    .table_provider(TableReference::partial(schema_name, table.as_str()))
                    .await
                    .map_err(|e| Status::internal(format!("{e}")))?;
                builder
                    .append(
                        CATALOG,
                        schema_name,
                        &table,
                        TABLE_TYPE,
                        &plain_schema(&provider.schema()),
                    )
                    .map_err(Status::from)?;
            }
        }
        Ok(Self::one_batch(builder.build().map_err(Status::from)?))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&query.into_builder().schema(), ticket, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let mut builder = query.into_builder();
        builder.append(TABLE_TYPE);
        Ok(Self::one_batch(builder.build().map_err(Status::from)?))
    }

    // The lake declares no keys: the key listings JDBC tools ask for are empty, not errors.

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&primary_keys_schema(), ticket, request.into_inner())
    }

    async fn do_get_primary_keys(
        &self,
        _query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        Ok(Self::one_batch(RecordBatch::new_empty(Arc::new(
            primary_keys_schema(),
        ))))
    }

    async fn get_flight_info_imported_keys(
        &self,
        query: CommandGetImportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&foreign_keys_schema(), ticket, request.into_inner())
    }

    async fn do_get_imported_keys(
        &self,
        _query: CommandGetImportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        Ok(Self::no_foreign_keys())
    }

    async fn get_flight_info_exported_keys(
        &self,
        query: CommandGetExportedKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&foreign_keys_schema(), ticket, request.into_inner())
    }

    async fn do_get_exported_keys(
        &self,
        _query: CommandGetExportedKeys,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        Ok(Self::no_foreign_keys())
    }

    async fn get_flight_info_cross_reference(
        &self,
        query: CommandGetCrossReference,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        flight_info(&foreign_keys_schema(), ticket, request.into_inner())
    }

    async fn do_get_cross_reference(
        &self,
        _query: CommandGetCrossReference,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        Ok(Self::no_foreign_keys())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.check(&request)?;
        let ticket = query.as_any().encode_to_vec();
        let schema = query.into_builder(&self.sql_info).schema();
        flight_info(&schema, ticket, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        self.check(&request)?;
        let batch = query
            .into_builder(&self.sql_info)
            .build()
            .map_err(Status::from)?;
        Ok(Self::one_batch(batch))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// Serves Flight SQL on an open listener until the process stops.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: FlightSqlGateway,
    tls: Option<tonic::transport::ServerTlsConfig>,
) -> Result<(), tonic::transport::Error> {
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    builder
        .add_service(gateway.into_service())
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await
}
