//! Errors as HTTP answers: a JSON body `{"error": {"code", "message", "parameter"?}}` with 400
//! for a bad parameter, 401 without the API key, 404 for what does not exist, 503 while the
//! store is unreachable. Never a panic, never a stack trace to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("parameter {parameter}: {reason}")]
    BadParameter { parameter: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("missing or wrong API key: send it in the x-api-key header")]
    Unauthorized,
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(parameter: &str, reason: impl Into<String>) -> Self {
        ApiError::BadParameter {
            parameter: parameter.to_string(),
            reason: reason.into(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadParameter { .. } => "bad_parameter",
            ApiError::NotFound(_) => "not_found",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable { .. } | StoreError::NotPublished(_) => {
                ApiError::Unavailable(e.to_string())
            }
            StoreError::MissingTable(_) => ApiError::NotFound(format!(
                "{e}: publish it with `lake run` (or `lake gold` / `lake ml`)"
            )),
            StoreError::Query { .. } => {
                log::error!("{e}");
                ApiError::Internal("the query failed; see the server log".into())
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "code": self.code(), "message": self.to_string() });
        if let ApiError::BadParameter { parameter, .. } = self {
            body["parameter"] = json!(parameter);
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unavailable(_)) {
            response.insert_header(("retry-after", "1"));
        }
        response.json(json!({ "error": body }))
    }
}
