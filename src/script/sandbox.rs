//! One sandboxed run of a script: a QuickJS runtime (fresh, or its owner's warm one) with a
//! memory limit, a deadline
//! enforced by the engine's interrupt handler, `console.log` captured, and no file, network or
//! module access (QuickJS without its `std`/`os` modules has none; the only way out is the
//! optional `http` bridge). Blocking: callers run it off the async workers (the tenant's lane,
//! `super::lanes`, or `tokio::task::spawn_blocking`), so a looping script never holds one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::function::Rest;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Runtime, Value};

use super::error::ScriptError;
use super::http::HttpBridge;

/// What one run may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub memory_bytes: usize,
    pub time: Duration,
}

/// `catch` and `verify`: on the webhook path, so short.
pub const CATCH_LIMITS: Limits = Limits {
    memory_bytes: 16 * 1024 * 1024,
    time: Duration::from_millis(50),
};

/// `pull` and `writeBack`: they wait for the ATS through `http`.
pub const PULL_LIMITS: Limits = Limits {
    memory_bytes: 16 * 1024 * 1024,
    time: Duration::from_secs(10),
};

/// Lines of `console.log` kept per run, and characters per line.
const MAX_LOG_LINES: usize = 100;
const MAX_LOG_CHARS: usize = 2_000;

/// A script's functions, by the name it exports them under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Verify,
    Catch,
    Pull,
    WriteBack,
}

impl Entry {
    pub const fn js_name(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Catch => "catch",
            Self::Pull => "pull",
            Self::WriteBack => "writeBack",
        }
    }
}

/// A script's source and the file name its errors are reported under. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Program {
    pub file_name: String,
    pub source: Arc<str>,
    /// The source's SHA-256, computed once (it keys the warm runtime).
    pub hash: Arc<str>,
    /// Whose script it is (a tenant), when its runtime may be kept warm for the next run of
    /// the same owner on the same thread; `None`: a fresh runtime every run.
    pub owner: Option<String>,
}

impl Program {
    pub fn new(
        file_name: impl Into<String>,
        source: impl Into<Arc<str>>,
        owner: Option<String>,
    ) -> Self {
        let source = source.into();
        Self {
            file_name: file_name.into(),
            hash: super::source_hash(&source).into(),
            source,
            owner,
        }
    }
}

/// What a run printed, whatever its outcome.
pub type Logs = Vec<String>;

/// The script loaded in a runtime: call its exported functions.
pub struct Session<'js> {
    ctx: Ctx<'js>,
    exports: Object<'js>,
    http: Option<Value<'js>>,
    file_name: String,
    timed_out: Rc<Cell<bool>>,
    limits: Limits,
}

impl<'js> Session<'js> {
    /// Whether the script exports `entry`.
    pub fn exports(&self, entry: Entry) -> bool {
        self.exports
            .get::<_, Value>(entry.js_name())
            .is_ok_and(|v| v.is_function())
    }

    /// Calls `entry` with `args` (passed as JSON, so the script gets plain objects), plus the
    /// `http` object last when the run has one. Answers `None` when the script does not export
    /// it, else what it returned (an `async` function's result awaited) as JSON.
    pub fn call(
        &self,
        entry: Entry,
        args: &[serde_json::Value],
    ) -> Result<Option<serde_json::Value>, ScriptError> {
        if !self.exports(entry) {
            return Ok(None);
        }
        let values = args
            .iter()
            .map(|arg| self.parse(&arg.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(text) = self.call_values(entry, values)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ScriptError::BadReturn {
                entry: entry.js_name(),
                reason: e.to_string(),
            })
    }

    /// `json` as a value of this runtime, parsed once and passed to as many calls as need it.
    pub fn parse(&self, json: &str) -> Result<Value<'js>, ScriptError> {
        self.ctx.json_parse(json).map_err(|e| self.error(e))
    }

    /// Calls `entry` with values of this runtime (plus `http`); answers `None` when the script
    /// does not export it, else the JSON text of what it returned (`null` for nothing).
    pub fn call_values(
        &self,
        entry: Entry,
        mut args: Vec<Value<'js>>,
    ) -> Result<Option<String>, ScriptError> {
        let Ok(function) = self.exports.get::<_, Function>(entry.js_name()) else {
            return Ok(None);
        };
        if let Some(http) = &self.http {
            args.push(http.clone());
        }
        let mut returned: Value = function.call((Rest(args),)).map_err(|e| self.error(e))?;
        if let Some(promise) = returned.as_promise() {
            returned = promise.finish::<Value>().map_err(|e| self.error(e))?;
        }
        if returned.is_undefined() {
            return Ok(Some("null".to_owned()));
        }
        let text = self
            .ctx
            .json_stringify(returned)
            .map_err(|e| self.error(e))?
            .map(|s| s.to_string())
            .transpose()
            .map_err(|e| self.error(e))?
            .unwrap_or_else(|| "null".to_owned());
        Ok(Some(text))
    }

    fn error(&self, error: rquickjs::Error) -> ScriptError {
        describe(
            &self.ctx,
            error,
            &self.file_name,
            self.timed_out.get(),
            self.limits,
        )
    }
}

/// Runs kept on one warm runtime before it is replaced (bounds what a script's module state
/// can accumulate).
const WARM_RUNS: u32 = 1_000;

thread_local! {
    /// The last script runtime this (blocking-pool) thread used, kept for its owner's next run.
    static WARM: RefCell<Option<Loaded>> = const { RefCell::new(None) };
}

/// Loads `program` (or takes its owner's warm runtime) and hands it to `body`; answers
/// `body`'s result and what the script logged. `http`, when given, is the only way the script
/// reaches the network (such runs always get a fresh runtime).
pub fn run<R>(
    program: &Program,
    limits: Limits,
    http: Option<HttpBridge>,
    body: impl FnOnce(&Session<'_>) -> Result<R, ScriptError>,
) -> (Result<R, ScriptError>, Logs) {
    let key = match (&program.owner, &http) {
        (Some(owner), None) => Some(format!("{owner}:{limits:?}:{}", program.hash)),
        _ => None,
    };
    let warm = key.as_ref().and_then(|key| {
        WARM.with(|slot| {
            let mut slot = slot.borrow_mut();
            match slot.take() {
                Some(loaded) if &loaded.key == key => Some(loaded),
                other => {
                    *slot = other;
                    None
                }
            }
        })
    });
    let mut loaded = match warm {
        Some(loaded) => loaded,
        None => match Loaded::new(program, limits, http, key.clone().unwrap_or_default()) {
            Ok(loaded) => loaded,
            Err((error, logs)) => return (Err(error), logs),
        },
    };
    let result = loaded.run(body);
    let logs = loaded.logs.take();
    loaded.runs += 1;
    // A failed run may have left the runtime in any state: only a clean one is kept.
    if key.is_some() && result.is_ok() && loaded.runs < WARM_RUNS {
        WARM.with(|slot| *slot.borrow_mut() = Some(loaded));
    }
    (result, logs)
}

/// A runtime with the script loaded. Fields drop in order: the saved values before the
/// context, the context before the runtime.
struct Loaded {
    exports: Persistent<Object<'static>>,
    http: Option<Persistent<Value<'static>>>,
    context: Context,
    _runtime: Runtime,
    key: String,
    file_name: String,
    limits: Limits,
    deadline: Rc<Cell<Instant>>,
    timed_out: Rc<Cell<bool>>,
    logs: Rc<RefCell<Logs>>,
    runs: u32,
}

impl Loaded {
    fn new(
        program: &Program,
        limits: Limits,
        http: Option<HttpBridge>,
        key: String,
    ) -> Result<Self, (ScriptError, Logs)> {
        let engine = |e: rquickjs::Error| (ScriptError::Engine(e.to_string()), Vec::new());
        let runtime = Runtime::new().map_err(engine)?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(256 * 1024);
        let deadline = Rc::new(Cell::new(Instant::now() + limits.time));
        let timed_out = Rc::new(Cell::new(false));
        {
            let (deadline, timed_out) = (deadline.clone(), timed_out.clone());
            runtime.set_interrupt_handler(Some(Box::new(move || {
                let late = Instant::now() >= deadline.get();
                if late {
                    timed_out.set(true);
                }
                late
            })));
        }
        let context = Context::full(&runtime).map_err(engine)?;
        let logs: Rc<RefCell<Logs>> = Rc::default();
        let loaded = context.with(|ctx| {
            let describe_here =
                |e: rquickjs::Error| describe(&ctx, e, &program.file_name, timed_out.get(), limits);
            install_console(&ctx, logs.clone()).map_err(describe_here)?;
            let http = match http {
                Some(bridge) => Some(
                    super::http::install(&ctx, bridge, deadline.clone()).map_err(describe_here)?,
                ),
                None => None,
            };
            let module = Module::declare(ctx.clone(), program.file_name.as_str(), &*program.source)
                .map_err(describe_here)?;
            let (module, promise) = module.eval().map_err(describe_here)?;
            promise.finish::<()>().map_err(describe_here)?;
            let exports = module.namespace().map_err(describe_here)?;
            Ok((
                Persistent::save(&ctx, exports),
                http.map(|h| Persistent::save(&ctx, h)),
            ))
        });
        match loaded {
            Ok((exports, http)) => Ok(Self {
                exports,
                http,
                context,
                _runtime: runtime,
                key,
                file_name: program.file_name.clone(),
                limits,
                deadline,
                timed_out,
                logs,
                runs: 0,
            }),
            Err(error) => Err((error, logs.take())),
        }
    }

    fn run<R>(
        &self,
        body: impl FnOnce(&Session<'_>) -> Result<R, ScriptError>,
    ) -> Result<R, ScriptError> {
        self.deadline.set(Instant::now() + self.limits.time);
        self.timed_out.set(false);
        self.context.with(|ctx| {
            let restore = |e: rquickjs::Error| ScriptError::Engine(e.to_string());
            let session = Session {
                exports: self.exports.clone().restore(&ctx).map_err(restore)?,
                http: match &self.http {
                    Some(http) => Some(http.clone().restore(&ctx).map_err(restore)?),
                    None => None,
                },
                ctx: ctx.clone(),
                file_name: self.file_name.clone(),
                timed_out: self.timed_out.clone(),
                limits: self.limits,
            };
            body(&session)
        })
    }
}

/// `console.log` (and `info`, `warn`, `error`, `debug`) into the run's logs, bounded.
fn install_console<'js>(ctx: &Ctx<'js>, logs: Rc<RefCell<Logs>>) -> rquickjs::Result<()> {
    let console = Object::new(ctx.clone())?;
    for level in ["log", "info", "warn", "error", "debug"] {
        let logs = logs.clone();
        let log = Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, args: Rest<Value<'js>>| -> rquickjs::Result<()> {
                let mut logs = logs.borrow_mut();
                if logs.len() >= MAX_LOG_LINES {
                    return Ok(());
                }
                let mut line = String::new();
                for (i, arg) in args.0.into_iter().enumerate() {
                    if i > 0 {
                        line.push(' ');
                    }
                    line.push_str(&display(&ctx, arg));
                }
                if line.chars().count() > MAX_LOG_CHARS {
                    line = line.chars().take(MAX_LOG_CHARS).collect::<String>() + "…";
                }
                logs.push(line);
                Ok(())
            },
        )?;
        console.set(level, log)?;
    }
    ctx.globals().set("console", console)
}

/// A logged value as a person reads it: strings as they are, the rest as JSON.
fn display<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> String {
    if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
        return text;
    }
    if let Some(error) = value.as_exception() {
        return error.to_string();
    }
    ctx.json_stringify(value)
        .ok()
        .flatten()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| "undefined".to_owned())
}

/// Turns an engine error into what the operator reads: the script's message and line, or the
/// limit it hit.
fn describe(
    ctx: &Ctx<'_>,
    error: rquickjs::Error,
    file_name: &str,
    timed_out: bool,
    limits: Limits,
) -> ScriptError {
    if timed_out {
        // The pending "interrupted" exception is the engine's, not the script's.
        let _ = ctx.catch();
        return ScriptError::Timeout { limit: limits.time };
    }
    if matches!(error, rquickjs::Error::Allocation) {
        let _ = ctx.catch();
        return ScriptError::OutOfMemory {
            limit_bytes: limits.memory_bytes,
        };
    }
    if !matches!(error, rquickjs::Error::Exception) {
        return ScriptError::Engine(error.to_string());
    }
    let thrown = ctx.catch();
    let (message, stack) = match thrown.as_exception() {
        Some(exception) => (
            exception.message().unwrap_or_default(),
            exception.stack().unwrap_or_default(),
        ),
        None => (display(ctx, thrown.clone()), String::new()),
    };
    let name = thrown
        .as_object()
        .and_then(|o| o.get::<_, Option<String>>("name").ok().flatten())
        .unwrap_or_default();
    if message.contains("out of memory") {
        return ScriptError::OutOfMemory {
            limit_bytes: limits.memory_bytes,
        };
    }
    let message = if name.is_empty() || name == "Error" {
        message
    } else {
        format!("{name}: {message}")
    };
    ScriptError::Thrown {
        message,
        line: line_in(&stack, file_name),
    }
}

/// The first line number of `file_name` in a QuickJS stack (`at f (acme.js:12:5)`).
fn line_in(stack: &str, file_name: &str) -> Option<u32> {
    let needle = format!("{file_name}:");
    let start = stack.find(&needle)? + needle.len();
    let digits: String = stack[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn program(source: &str) -> Program {
        Program::new("acme.js", source, None)
    }

    fn catch(
        source: &str,
        args: &[serde_json::Value],
    ) -> (Result<serde_json::Value, ScriptError>, Logs) {
        run(&program(source), CATCH_LIMITS, None, |session| {
            session
                .call(Entry::Catch, args)
                .map(|v| v.unwrap_or(serde_json::Value::Null))
        })
    }

    #[test]
    fn an_exported_catch_gets_plain_objects_and_returns_json() {
        let (result, logs) = catch(
            "function handle(request, settings) {\n  console.log('got', request.body.n);\n  return [{n: request.body.n + settings.k}];\n}\nexport { handle as catch };",
            &[json!({"body": {"n": 1}}), json!({"k": 2})],
        );
        assert_eq!(result.ok(), Some(json!([{"n": 3}])));
        assert_eq!(logs, vec!["got 1".to_owned()]);
    }

    #[test]
    fn a_throw_is_reported_with_its_message_and_line() {
        let (result, _) = catch(
            "export function pull() {}\nfunction handle() {\n  throw new Error('no job_reference');\n}\nexport { handle as catch };",
            &[],
        );
        assert_eq!(
            result.err(),
            Some(ScriptError::Thrown {
                message: "no job_reference".to_owned(),
                line: Some(3)
            })
        );
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let (result, _) = catch("const a = 1;\nconst b = ;\n", &[]);
        match result {
            Err(ScriptError::Thrown { message, line }) => {
                assert!(message.starts_with("SyntaxError"), "{message}");
                assert_eq!(line, Some(2));
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn a_loop_is_stopped_at_the_time_limit() {
        let (result, _) = catch(
            "function handle() { for (;;) {} }\nexport { handle as catch };",
            &[],
        );
        assert_eq!(
            result.err(),
            Some(ScriptError::Timeout {
                limit: CATCH_LIMITS.time
            })
        );
    }

    #[test]
    fn a_loop_that_catches_the_interrupt_is_still_stopped() {
        let (result, _) = catch(
            "function handle() { for (;;) { try { for (;;) {} } catch (e) {} } }\nexport { handle as catch };",
            &[],
        );
        assert!(
            matches!(result, Err(ScriptError::Timeout { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn memory_beyond_the_limit_is_refused() {
        let (result, _) = catch(
            "function handle() { const a = []; for (;;) { a.push('x'.repeat(1024 * 1024) + a.length); } }\nexport { handle as catch };",
            &[],
        );
        assert!(
            matches!(result, Err(ScriptError::OutOfMemory { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn scripts_cannot_import_modules_nor_reach_files() {
        let (result, _) = catch("import * as os from 'os';\nexport function pull() {}", &[]);
        assert!(result.is_err());
        let (result, _) = catch(
            "function handle() { return [typeof require, typeof std, typeof os, typeof fetch, typeof http]; }\nexport { handle as catch };",
            &[],
        );
        assert_eq!(
            result.ok(),
            Some(json!([
                "undefined",
                "undefined",
                "undefined",
                "undefined",
                "undefined"
            ]))
        );
    }

    #[test]
    fn a_runtime_is_kept_warm_for_its_owner_only() {
        let counting = |owner: Option<&str>| {
            let program = Program {
                owner: owner.map(str::to_owned),
                ..program(
                    "let n = 0;\nfunction handle() { n += 1; return n; }\nexport { handle as catch };",
                )
            };
            run(&program, CATCH_LIMITS, None, |s| s.call(Entry::Catch, &[]))
                .0
                .ok()
                .flatten()
        };
        assert_eq!(counting(Some("tenant-1")), Some(json!(1)));
        assert_eq!(counting(Some("tenant-1")), Some(json!(2)), "warm");
        assert_eq!(
            counting(Some("tenant-2")),
            Some(json!(1)),
            "another tenant's state is never seen"
        );
        assert_eq!(counting(None), Some(json!(1)));
        // A looping run is stopped in a warm runtime too, and the runtime is not kept.
        let looping = Program {
            owner: Some("tenant-3".to_owned()),
            ..program(
                "let n = 0;\nfunction handle(r) { n += 1; if (r.loop) for (;;) {} return n; }\nexport { handle as catch };",
            )
        };
        let call = |arg: serde_json::Value| {
            run(&looping, CATCH_LIMITS, None, |s| {
                s.call(Entry::Catch, std::slice::from_ref(&arg))
            })
            .0
        };
        assert_eq!(call(json!({})).ok().flatten(), Some(json!(1)));
        assert!(matches!(
            call(json!({"loop": true})),
            Err(ScriptError::Timeout { .. })
        ));
        assert_eq!(
            call(json!({})).ok().flatten(),
            Some(json!(1)),
            "a fresh runtime after a failure"
        );
    }

    #[test]
    fn a_missing_function_is_none() {
        let (result, _) = run(
            &program("export function pull() { return 1; }"),
            CATCH_LIMITS,
            None,
            |s| Ok((s.exports(Entry::Catch), s.call(Entry::Verify, &[])?)),
        );
        assert_eq!(result.ok(), Some((false, None)));
    }
}
