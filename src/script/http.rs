//! The `http` object a script's `pull` and `writeBack` get: synchronous calls (the script runs
//! on a blocking thread) that may only reach the tenant's `ats.base_url` origin, through the
//! one outbound client (same-origin redirects, guarded name resolution). Everything else is
//! refused with an exception the script can read.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use rquickjs::{Ctx, Exception, Function, Value};
use serde::{Deserialize, Serialize};

/// Calls one run may make.
const MAX_CALLS: usize = 100;
/// Largest answer body handed to a script.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What the bridge needs: the client, the runtime to wait on, and the one origin allowed.
#[derive(Clone)]
pub struct HttpBridge {
    pub client: reqwest::Client,
    pub runtime: tokio::runtime::Handle,
    pub base_url: url::Url,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptRequest {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    body: Option<serde_json::Value>,
}

fn get() -> String {
    "GET".to_owned()
}

#[derive(Serialize)]
struct ScriptResponse {
    status: u16,
    headers: std::collections::BTreeMap<String, String>,
    body: String,
}

/// The JavaScript side: `request`, `get`, `post`, each answer with a `json()` helper.
const PRELUDE: &str = r#"(function (raw) {
  const request = (r) => {
    const a = JSON.parse(raw(JSON.stringify(r)));
    a.json = function () { return JSON.parse(this.body); };
    return a;
  };
  return Object.freeze({
    request,
    get: (url, o) => request(Object.assign({}, o, { method: 'GET', url })),
    post: (url, body, o) => request(Object.assign({}, o, { method: 'POST', url, body })),
    put: (url, body, o) => request(Object.assign({}, o, { method: 'PUT', url, body })),
  });
})"#;

/// Builds the script's `http` object, its calls bounded by `deadline`.
pub fn install<'js>(
    ctx: &Ctx<'js>,
    bridge: HttpBridge,
    deadline: Rc<Cell<Instant>>,
) -> rquickjs::Result<Value<'js>> {
    let calls = std::cell::Cell::new(0usize);
    let raw = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, request: String| -> rquickjs::Result<String> {
            calls.set(calls.get() + 1);
            if calls.get() > MAX_CALLS {
                return Err(Exception::throw_message(
                    &ctx,
                    &format!("http: more than {MAX_CALLS} calls in one run"),
                ));
            }
            bridge
                .call(&request, deadline.get())
                .map_err(|message| Exception::throw_message(&ctx, &format!("http: {message}")))
        },
    )?;
    let make: Function = ctx.eval(PRELUDE)?;
    make.call((raw,))
}

impl HttpBridge {
    /// Whether `url` is on the tenant's ATS origin (scheme, host and port).
    pub fn allows(&self, url: &url::Url) -> bool {
        url.origin() == self.base_url.origin()
    }

    fn call(&self, request: &str, deadline: Instant) -> Result<String, String> {
        let request: ScriptRequest =
            serde_json::from_str(request).map_err(|e| format!("invalid request: {e}"))?;
        let url = self
            .base_url
            .join(&request.url)
            .map_err(|e| format!("invalid URL `{}`: {e}", request.url))?;
        if !self.allows(&url) {
            return Err(format!(
                "`{}` is not the tenant's ATS host ({}); refused",
                url.host_str().unwrap_or(""),
                self.base_url.origin().ascii_serialization()
            ));
        }
        let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("invalid method `{}`", request.method))?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err("no time left in this run".to_owned());
        }
        let mut builder = self.client.request(method, url).timeout(remaining);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        builder = match request.body {
            None | Some(serde_json::Value::Null) => builder,
            Some(serde_json::Value::String(text)) => builder.body(text),
            Some(json) => builder.json(&json),
        };
        let answer = self.runtime.block_on(async move {
            let response = builder.send().await.map_err(describe)?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            if response
                .content_length()
                .is_some_and(|n| n > MAX_BODY_BYTES as u64)
            {
                return Err(format!("the answer is larger than {MAX_BODY_BYTES} bytes"));
            }
            let bytes = response.bytes().await.map_err(describe)?;
            if bytes.len() > MAX_BODY_BYTES {
                return Err(format!("the answer is larger than {MAX_BODY_BYTES} bytes"));
            }
            Ok(ScriptResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        })?;
        serde_json::to_string(&answer).map_err(|e| e.to_string())
    }
}

fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "the call timed out".to_owned()
    } else {
        // Without the URL's query, which may carry a key.
        format!("the call failed: {}", error.without_url())
    }
}
