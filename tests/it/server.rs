//! A local HTTP server for tests: serves recorded payloads from a route
//! table that a test can change between crawls, answers conditional GETs,
//! can misbehave on purpose, and logs every request it gets.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a route answers.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// The body, as given.
    Normal,
    /// Body gzip-compressed on the fly, with `Content-Encoding: gzip`.
    Gzip,
    /// An endless chunked body of `x` bytes.
    Endless,
    /// The body, one byte per second.
    Slow,
    /// A 302 to the given path.
    Redirect(String),
}

#[derive(Clone, Debug)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub behavior: Behavior,
    /// Answer 304 to a matching `If-None-Match`.
    pub etag: Option<String>,
    /// Answer these statuses (with headers) first, once each, before the route itself.
    pub failures: Vec<(u16, Vec<(String, String)>)>,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            content_type: content_type.to_owned(),
            body: body.into(),
            headers: Vec::new(),
            behavior: Behavior::Normal,
            etag: None,
            failures: Vec::new(),
        }
    }

    pub fn status(status: u16) -> Route {
        Route {
            status,
            ..Route::ok("text/plain", format!("status {status}"))
        }
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.to_owned());
        self
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn behave(mut self, behavior: Behavior) -> Route {
        self.behavior = behavior;
        self
    }

    pub fn fail_first(mut self, status: u16, headers: &[(&str, &str)]) -> Route {
        self.failures.push((
            status,
            headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ));
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Path and query, e.g. `/feed.xml?x=1`.
    pub target: String,
    pub headers: HeaderMap,
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    log: Mutex<Vec<Logged>>,
}

pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1, port 0, on the current tokio runtime.
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The same server under the name `localhost`: another host to the crawler.
    pub fn url_as_localhost(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.addr.port())
    }

    /// Serves `route` at `target` (path, optionally with query).
    pub fn route(&self, target: &str, route: Route) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(target.to_owned(), route);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Requests whose path (without query) is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.target.split('?').next() == Some(path))
            .collect()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().unwrap().clear();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let headers = req.headers().clone();
    let route = {
        let mut routes = shared.routes.lock().unwrap();
        let path = req.uri().path();
        let key = if routes.contains_key(&target) {
            target.clone()
        } else {
            path.to_owned()
        };
        routes.get_mut(&key).map(|r| {
            if r.failures.is_empty() {
                Ok(r.clone())
            } else {
                Err(r.failures.remove(0))
            }
        })
    };
    let response = match route {
        None => plain(404, "not found"),
        Some(Err((status, extra))) => {
            let mut resp = plain(status, "try again later");
            for (n, v) in extra {
                set(&mut resp, &n, &v);
            }
            resp
        }
        Some(Ok(route)) => respond(route, &headers),
    };
    shared.log.lock().unwrap().push(Logged {
        target,
        headers,
        status: response.status().as_u16(),
    });
    response
}

fn set(resp: &mut Response, name: &str, value: &str) {
    resp.headers_mut().insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
}

fn plain(status: u16, body: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_owned()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    resp
}

fn respond(route: Route, req_headers: &HeaderMap) -> Response {
    if let Some(etag) = &route.etag {
        let matches = req_headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
        if matches {
            let mut resp = plain(304, "");
            *resp.body_mut() = Body::empty();
            set(&mut resp, "etag", etag);
            return resp;
        }
    }
    let mut resp = match &route.behavior {
        Behavior::Normal => Response::new(Body::from(route.body.clone())),
        Behavior::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&route.body).unwrap();
            let mut resp = Response::new(Body::from(enc.finish().unwrap()));
            set(&mut resp, "content-encoding", "gzip");
            resp
        }
        Behavior::Endless => {
            let chunk = bytes_of(vec![b'x'; 64 * 1024]);
            let stream =
                futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
            Response::new(Body::from_stream(stream))
        }
        Behavior::Slow => {
            let body = route.body.clone();
            let stream = futures_util::stream::unfold(0usize, move |i| {
                let body = body.clone();
                async move {
                    if i >= body.len() {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Some((Ok::<_, std::io::Error>(bytes_of(vec![body[i]])), i + 1))
                }
            });
            Response::new(Body::from_stream(stream))
        }
        Behavior::Redirect(to) => {
            let mut resp = plain(302, "");
            set(&mut resp, "location", to);
            return resp;
        }
    };
    *resp.status_mut() = StatusCode::from_u16(route.status).unwrap();
    set(&mut resp, "content-type", &route.content_type);
    if let Some(etag) = &route.etag {
        set(&mut resp, "etag", etag);
    }
    for (n, v) in &route.headers {
        set(&mut resp, n, v);
    }
    resp
}

fn bytes_of(v: Vec<u8>) -> axum::body::Bytes {
    axum::body::Bytes::from(v)
}
