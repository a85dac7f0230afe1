//! What the gateway answers when it does not forward a write, or the
//! service provider could not be reached: SCIM's own error message
//! (RFC 7644 §3.12), `application/scim+json`, with the status, the
//! `scimType` where the RFC has one, and a `detail` a person can act on.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The schema URI of a SCIM error message.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The media type of SCIM messages (RFC 7644 §3.1).
pub const MEDIA_TYPE: &str = "application/scim+json";

/// Why a call was not forwarded, or failed on the way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScimError {
    /// The policy refuses the write: the rules and their reasons.
    #[error("{0}")]
    Denied(String),
    /// The write would leave records without an owner, and the pack names
    /// no default one (D3, D6, D7).
    #[error("{0}")]
    NeedsOwner(String),
    /// The user exists already (RFC 7644 §3.3: `uniqueness`).
    #[error("{0}")]
    Uniqueness(String),
    /// An attribute the gateway decides on cannot change (the one that is
    /// the steward user id).
    #[error("{0}")]
    Mutability(String),
    /// A path the gateway cannot tell the meaning of for an attribute it
    /// decides on.
    #[error("{0}")]
    InvalidPath(String),
    /// A value of the wrong type or shape.
    #[error("{0}")]
    InvalidValue(String),
    /// The body is not JSON, or not the SCIM message it should be.
    #[error("{0}")]
    InvalidSyntax(String),
    /// A write the gateway has no mapping for, refused (`unmapped: refuse`,
    /// or an endpoint the gateway does not decide).
    #[error("{0}")]
    NotMapped(String),
    /// A write to a read-only endpoint.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// No or a wrong bearer token.
    #[error("a bearer token of a configured client is required")]
    Unauthorized,
    /// The resource is unknown to steward's directory.
    #[error("{0}")]
    NotFound(String),
    /// A body over the limit.
    #[error("the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Too many calls in flight.
    #[error("{0} calls are in flight already; retry shortly")]
    Overloaded(usize),
    /// Other writes held the gateway so long that this one could not be
    /// carried out within the call's time limit; nothing was forwarded.
    #[error(
        "other writes held the gateway for {0} ms, too long to carry this one out within the time limit; nothing was forwarded: retry"
    )]
    Busy(u128),
    /// The call took longer than the limit.
    #[error("the call took longer than {0} ms")]
    Timeout(u128),
    /// The service provider did not answer in time (nothing was written).
    #[error("the service provider did not answer within {0} ms; nothing was written to steward's directory")]
    UpstreamTimeout(u128),
    /// The service provider could not be reached (nothing was written).
    #[error("the service provider could not be reached ({0}); nothing was written to steward's directory")]
    Unreachable(String),
    /// steward's own store failed.
    #[error("{0}")]
    Internal(String),
}

impl ScimError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ScimError::Denied(_) | ScimError::NotMapped(_) => StatusCode::FORBIDDEN,
            ScimError::NeedsOwner(_) | ScimError::Uniqueness(_) => StatusCode::CONFLICT,
            ScimError::Mutability(_)
            | ScimError::InvalidPath(_)
            | ScimError::InvalidValue(_)
            | ScimError::InvalidSyntax(_) => StatusCode::BAD_REQUEST,
            ScimError::Unauthorized => StatusCode::UNAUTHORIZED,
            ScimError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ScimError::NotFound(_) => StatusCode::NOT_FOUND,
            ScimError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ScimError::Overloaded(_) | ScimError::Busy(_) | ScimError::Timeout(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ScimError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ScimError::Unreachable(_) => StatusCode::BAD_GATEWAY,
            ScimError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `scimType` of RFC 7644 §3.12, where one fits.
    pub fn scim_type(&self) -> Option<&'static str> {
        match self {
            ScimError::Uniqueness(_) => Some("uniqueness"),
            ScimError::Mutability(_) => Some("mutability"),
            ScimError::InvalidPath(_) => Some("invalidPath"),
            ScimError::InvalidValue(_) => Some("invalidValue"),
            ScimError::InvalidSyntax(_) => Some("invalidSyntax"),
            ScimError::TooLarge { .. } => Some("tooMany"),
            _ => None,
        }
    }

    /// The error message's JSON.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [ERROR],
            "status": self.status().as_u16().to_string(),
            "detail": self.to_string(),
        });
        if let (Some(kind), Some(map)) = (self.scim_type(), body.as_object_mut()) {
            map.insert("scimType".into(), kind.into());
        }
        body
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), scim_json(&self.body())).into_response();
        if matches!(self, ScimError::Unauthorized) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ScimError::MethodNotAllowed(_)) {
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET"));
        }
        if matches!(self, ScimError::Overloaded(_) | ScimError::Busy(_)) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// `value` as a SCIM message body, with its media type.
pub(crate) fn scim_json(value: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    ([(header::CONTENT_TYPE, MEDIA_TYPE)], bytes).into_response()
}
