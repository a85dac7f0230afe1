//! The service provider the gateway forwards to: one pooled HTTP/1.1
//! client (keep-alive connections reused across calls), each call bounded
//! by a timeout. Headers pass through both ways but those of one hop
//! (RFC 9110 §7.6.1) and the identity provider's credentials: the service
//! provider gets the gateway's own token, when one is configured.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::error::ScimError;

/// The largest answer read from the service provider, in bytes: a list of
/// every user of a large tenant fits; an endless one does not exhaust us.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// The headers that belong to one connection, never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Headers never forwarded to the service provider: method overrides (a
/// service provider that honours one would carry out a write the gateway
/// passed as a read), and what says who the caller is to it (the
/// gateway's own token does).
const NOT_FORWARDED: [&str; 9] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "cookie",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// The service provider's base URL, client and limits.
#[derive(Clone)]
pub(crate) struct Upstream {
    /// `http://host:port` and the path the SCIM endpoints sit under,
    /// without a trailing slash (`/scim/v2`, or empty).
    scheme_authority: String,
    base_path: String,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP/1.1 client with `timeout` to connect, keeping idle
/// connections for 30 s when `pooled`.
fn client(timeout: Duration, pooled: bool) -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(timeout));
    let mut builder = Client::builder(TokioExecutor::new());
    builder.pool_idle_timeout(Duration::from_secs(30));
    if !pooled {
        builder.pool_max_idle_per_host(0);
    }
    builder.build(connector)
}

/// What the service provider answered.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// A 2xx answer: the write happened there.
    pub fn succeeded(&self) -> bool {
        self.status.is_success()
    }

    /// The body as JSON, when it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

impl Upstream {
    /// The service provider at `url` (`http://127.0.0.1:8000/scim/v2`).
    pub fn new(url: &str, token: Option<&str>, timeout: Duration) -> Result<Upstream, String> {
        let uri: Uri = url.parse().map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "`{url}`: the gateway speaks plain HTTP to the service provider; put a TLS-terminating proxy on this machine in front of an https one (docs/scim.md)"
                ));
            }
            _ => return Err(format!("`{url}` is not an http:// URL")),
        }
        let authority = uri.authority().ok_or_else(|| format!("`{url}` names no host"))?;
        if uri.query().is_some() {
            return Err(format!("`{url}` has a query; give the base URL of the SCIM endpoints"));
        }
        let authorization = token
            .filter(|t| !t.is_empty())
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .map_err(|_| "the upstream token is not a valid header value".to_owned())?;
        Ok(Upstream {
            scheme_authority: format!("http://{authority}"),
            base_path: uri.path().trim_end_matches('/').to_owned(),
            authorization,
            timeout,
            client: client(timeout, true),
        })
    }

    /// The same service provider through a client that keeps no idle
    /// connection: one for a runtime that is driven only while it calls
    /// (`write::Forwarder`), where a kept connection does not see the
    /// service provider close it, and the next write is sent into the
    /// closed socket (a 502, tests/gateway_review.rs).
    pub fn unpooled(&self) -> Upstream {
        Upstream { client: client(self.timeout, false), ..self.clone() }
    }

    /// How long the service provider may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `method` to `path` (below the base: `/Users/2819c223`, with
    /// its query) with the identity provider's headers, less those of its
    /// hop and its credentials.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Answer, ScimError> {
        let uri = format!("{}{}{}", self.scheme_authority, self.base_path, path);
        let mut request = hyper::Request::builder().method(method).uri(uri);
        // Headers a connection's `Connection` names are that hop's too.
        let named: Vec<String> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        if let Some(out) = request.headers_mut() {
            for (name, value) in headers {
                if NOT_FORWARDED.contains(&name.as_str()) || named.iter().any(|n| n == name.as_str()) {
                    continue;
                }
                // The length is the body's own: a deletion sent as a
                // deactivation carries a body the call it came from had not.
                let own = [header::AUTHORIZATION, header::HOST, header::CONTENT_LENGTH];
                if !HOP_BY_HOP.contains(name) && !own.contains(name) {
                    out.append(name.clone(), value.clone());
                }
            }
            if let Some(authorization) = &self.authorization {
                out.insert(header::AUTHORIZATION, authorization.clone());
            }
        }
        let request = request.body(Full::new(body)).map_err(|e| ScimError::Internal(e.to_string()))?;
        let millis = self.timeout.as_millis();
        let call = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| ScimError::Unreachable(crate::server::error::chain(&e)))?;
            let (parts, body) = response.into_parts();
            let limited = http_body_util::Limited::new(body, MAX_ANSWER_BYTES);
            let body = limited.collect().await.map_err(|e| ScimError::Unreachable(e.to_string()))?.to_bytes();
            let mut headers = parts.headers;
            for name in &HOP_BY_HOP {
                headers.remove(name);
            }
            headers.remove(header::CONTENT_LENGTH);
            Ok(Answer { status: parts.status, headers, body })
        };
        tokio::time::timeout(self.timeout, call).await.map_err(|_| ScimError::UpstreamTimeout(millis))?
    }
}
