//! The service's errors: every failure is a JSON body
//! `{"error": {"code", "message"}}` with the HTTP status that fits it, so
//! that a client can branch on `code` without parsing words.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a call to the service failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ApiError {
    /// No bearer token, or the wrong one.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The body is not the JSON the endpoint takes.
    #[error("invalid JSON body: {0}")]
    MalformedBody(String),
    /// The body is larger than the configured limit.
    #[error("the body is larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("cannot read the body: {0}")]
    Body(String),
    /// A batch holds more requests than the configured limit.
    #[error("the batch has {given} requests; the limit is {limit} per call")]
    BatchTooLarge {
        /// How many requests the batch held.
        given: usize,
        /// The limit.
        limit: usize,
    },
    /// The request names something the directory or the schema does not know.
    #[error(transparent)]
    Request(#[from] crate::policy::RequestError),
    /// The impact cannot be computed.
    #[error(transparent)]
    Impact(#[from] crate::graph::ImpactError),
    /// The plan cannot be made.
    #[error("{0}")]
    Plan(String),
    /// A reverse query that cannot be answered (both sides given, a limit
    /// out of bounds, an action on no account).
    #[error("{0}")]
    Query(String),
    /// The call took longer than the configured timeout.
    #[error("the request took longer than {0} ms")]
    Timeout(u128),
    /// As many calls as the limit allows are in flight already.
    #[error("the calls in flight are at the limit ({0}); retry shortly")]
    Overloaded(usize),
    /// No such endpoint.
    #[error("no endpoint `{method} {path}`")]
    NotFound {
        /// The method asked.
        method: String,
        /// The path asked.
        path: String,
    },
    /// The endpoint exists but not with this method.
    #[error("`{path}` does not take this method")]
    MethodNotAllowed {
        /// The path asked.
        path: String,
    },
    /// A bug: the service caught it and kept serving.
    #[error("internal error: {0}")]
    Internal(String),
    /// The request line or a header is not HTTP/1.1.
    #[error("the request is not HTTP/1.1: its request line or a header cannot be read")]
    MalformedRequest,
    /// The request's path is too long to read.
    #[error("the request's path is too long")]
    UriTooLong,
    /// The request's head is too large to read.
    #[error("the request line and headers are over the limit of {limit} bytes or {headers} headers")]
    HeadersTooLarge {
        /// The most bytes of a head.
        limit: usize,
        /// The most headers.
        headers: usize,
    },
}

impl ApiError {
    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::MalformedBody(_) => "malformed_body",
            ApiError::BodyTooLarge { .. } => "body_too_large",
            ApiError::Body(_) => "unreadable_body",
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::Request(_) => "invalid_request",
            ApiError::Impact(_) => "invalid_request",
            ApiError::Plan(_) => "invalid_plan",
            ApiError::Query(_) => "invalid_query",
            ApiError::Timeout(_) => "timeout",
            ApiError::Overloaded(_) => "overloaded",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Internal(_) => "internal",
            ApiError::MalformedRequest => "malformed_request",
            ApiError::UriTooLong => "uri_too_long",
            ApiError::HeadersTooLarge { .. } => "headers_too_large",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::MalformedBody(_) | ApiError::Body(_) | ApiError::MalformedRequest => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UriTooLong => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::BodyTooLarge { .. } | ApiError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Request(_) | ApiError::Impact(_) | ApiError::Plan(_) | ApiError::Query(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Timeout(_) | ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body, `{"error": {"code", "message"}}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        let extra = match self {
            ApiError::Unauthorized => Some((header::WWW_AUTHENTICATE, "Bearer")),
            // A call in flight takes microseconds to milliseconds: a second
            // is the shortest wait the header can say.
            ApiError::Overloaded(_) => Some((header::RETRY_AFTER, "1")),
            _ => None,
        };
        if let Some((name, value)) = extra {
            response.headers_mut().insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on `{addr}`")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The address is not an address and port.
    #[error("`{0}` is not an address and port")]
    #[diagnostic(help("for example `127.0.0.1:8181`"))]
    Address(String),
    /// The decision log could not be opened.
    #[error("cannot open the decision log `{}`", path.display())]
    DecisionLog {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The policy files could not be watched.
    #[error("cannot watch the policy files")]
    Watch(#[source] notify::Error),
    /// Serving failed.
    #[error("the service stopped")]
    Io(#[source] std::io::Error),
}

/// A policy error on one line: its diagnostics, or its chain of causes.
pub(crate) fn policy_line(e: &crate::policy::Error) -> String {
    match e.diagnostics() {
        Some((sources, list)) => diagnostics_line(sources, list),
        None => chain(e),
    }
}

/// An error and its causes on one line, `error: cause: cause`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The errors among `list` on one line, `file:line:col: message (help)`
/// each, for a notice or a JSON message.
pub(crate) fn diagnostics_line(
    sources: &crate::policy::Sources,
    list: &[crate::policy::Diagnostic],
) -> String {
    list.iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let place = d.span.map(|s| format!("{}: ", sources.locate(s))).unwrap_or_default();
            let help = d.help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default();
            format!("{place}{}{help}", d.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}
