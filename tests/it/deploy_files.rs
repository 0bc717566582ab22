//! The deployment files (`deploy/`) parse, describe the documented topology, run this package's
//! `liaison` binary, and use only commands and options that binary has.

use std::path::{Path, PathBuf};
use std::process::Output;

use liaison::crypto::MasterKey;
use liaison::tenant::TenantConfig;
use serde::Deserialize as _;
use serde_json::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every YAML document of a file, as JSON values (merge keys `<<` applied).
fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            let mut value = serde_norway::Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            value
                .apply_merge()
                .unwrap_or_else(|e| panic!("{}: merge keys: {e}", path.display()));
            serde_json::to_value(value).expect("YAML as JSON")
        })
        .collect()
}

fn compose() -> Value {
    let mut documents = yaml_documents(&deploy_dir().join("compose.yaml"));
    assert_eq!(documents.len(), 1);
    documents.remove(0)
}

fn k8s_documents() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join("k8s"))
        .expect("deploy/k8s")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|path| {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            yaml_documents(path)
                .into_iter()
                .map(move |document| (name.clone(), document))
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|s| s.as_str().expect("a string").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn liaison(args: &[String]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the liaison binary")
}

/// The binary accepts these arguments: `--help` after them parses them and prints the help.
fn assert_real_command(origin: &str, args: &[String]) {
    assert!(!args.is_empty(), "{origin}: no command");
    let mut with_help = args.to_vec();
    with_help.push("--help".to_owned());
    let output = liaison(&with_help);
    assert!(
        output.status.success(),
        "{origin}: `liaison {}` is not a liaison command: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Compose services that run the Liaison image, with their commands.
fn liaison_services(compose: &Value) -> Vec<(String, Value)> {
    compose["services"]
        .as_object()
        .expect("services")
        .iter()
        .filter(|(_, service)| service["image"] == "liaison:local")
        .map(|(name, service)| (name.clone(), service.clone()))
        .collect()
}

#[test]
fn compose_runs_postgres_two_web_and_two_worker_replicas_behind_a_proxy() {
    let compose = compose();
    let services = &compose["services"];
    assert!(services["postgres"]["healthcheck"].is_object());
    let web = &services["web"];
    assert_eq!(strings(&web["command"]), ["serve", "--no-workers"]);
    assert_eq!(web["deploy"]["replicas"], 2);
    let worker = &services["worker"];
    assert_eq!(strings(&worker["command"])[0], "worker");
    assert_eq!(worker["deploy"]["replicas"], 2);
    assert_eq!(strings(&services["migrate"]["command"]), ["migrate"]);
    for (name, service) in liaison_services(&compose) {
        assert!(
            service["environment"]["LIAISON_DATABASE_URL"]
                .as_str()
                .is_some_and(|url| url.starts_with("postgres://")),
            "{name} shares the PostgreSQL database"
        );
        if name == "web" || name == "worker" {
            assert_eq!(
                service["depends_on"]["migrate"]["condition"],
                "service_completed_successfully"
            );
        }
    }
    for simulator in ["sim-gupy", "sim-suite"] {
        assert_eq!(strings(&services[simulator]["command"])[0], "sim");
    }
    let proxy = &services["proxy"];
    assert!(
        strings(&proxy["volumes"])
            .iter()
            .any(|v| v.starts_with("./nginx.conf:"))
    );
    let nginx = read(&deploy_dir().join("nginx.conf"));
    assert!(
        nginx.contains("server web:8080"),
        "the proxy balances `web`"
    );
}

#[test]
fn compose_demo_values_are_valid() {
    let env = read(&deploy_dir().join("compose.env"));
    let key = env
        .lines()
        .find_map(|line| line.strip_prefix("LIAISON_MASTER_KEY="))
        .expect("a master key");
    assert!(MasterKey::from_base64(key).is_ok(), "32 bytes, base64");
    let tenant = read(&deploy_dir().join("compose-tenant.toml"));
    let config = TenantConfig::from_toml(&tenant).expect("a valid tenant file");
    assert_eq!(config.slug, "demo");
}

/// Why `url` would not work both from a browser on the host and from inside the compose network:
/// its host must be a loopback name for the browser (`127.0.0.1`, `localhost`, `*.localhost`),
/// published there on its port by a service which, inside the network, answers to that name (its
/// service name or a network alias) on the same port.
fn unreachable_both_ways(compose: &Value, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let port = parsed.port_or_known_default().unwrap_or_default();
    let loopback = host == "127.0.0.1" || host == "localhost" || host.ends_with(".localhost");
    if !loopback {
        return Some(format!(
            "{url}: a browser on the host cannot resolve `{host}`"
        ));
    }
    let services = compose["services"].as_object().expect("services");
    let publisher = services.iter().find(|(_, service)| {
        strings(&service["ports"]).iter().any(|mapping| {
            let parts: Vec<&str> = mapping.split(':').collect();
            parts.len() == 3 && parts[0] == "127.0.0.1" && parts[1] == port.to_string()
        })
    });
    let Some((name, service)) = publisher else {
        return Some(format!(
            "{url}: no service publishes port {port} on the host"
        ));
    };
    let inside_port = strings(&service["ports"])
        .iter()
        .find_map(|mapping| {
            let parts: Vec<&str> = mapping.split(':').collect();
            (parts.len() == 3 && parts[1] == port.to_string()).then(|| parts[2].to_owned())
        })
        .unwrap_or_default();
    if inside_port != port.to_string() {
        return Some(format!(
            "{url}: `{name}` listens on {inside_port} inside the network, not {port}"
        ));
    }
    let aliases = strings(&service["networks"]["default"]["aliases"]);
    if *name != host && !aliases.contains(&host) {
        return Some(format!(
            "{url}: inside the network `{host}` is not `{name}` (aliases: {aliases:?})"
        ));
    }
    None
}

#[test]
fn the_compose_stack_s_links_work_from_a_browser_on_the_host_and_inside_the_network() {
    let compose = compose();
    let public_url = compose["services"]["web"]["environment"]["LIAISON_PUBLIC_URL"]
        .as_str()
        .expect("a public URL")
        .to_owned();
    for (name, service) in liaison_services(&compose) {
        assert_eq!(
            service["environment"]["LIAISON_PUBLIC_URL"], public_url,
            "{name} hands out the same links"
        );
    }
    let tenant = TenantConfig::from_toml(&read(&deploy_dir().join("compose-tenant.toml")))
        .expect("a valid tenant file");
    let tenant_text = read(&deploy_dir().join("compose-tenant.toml"));
    let tenant_toml: toml::Value = toml::from_str(&tenant_text).expect("toml");
    let mut urls = vec![public_url.clone()];
    for pointer in [
        ("ats", "base_url"),
        ("suite", "base_url"),
        ("suite", "app_url"),
    ] {
        urls.push(
            tenant_toml[pointer.0][pointer.1]
                .as_str()
                .expect("a URL")
                .to_owned(),
        );
    }
    urls.extend(
        tenant_toml["embed"]["frame_ancestors"]
            .as_array()
            .expect("frame ancestors")
            .iter()
            .map(|v| v.as_str().expect("an origin").to_owned()),
    );
    assert_eq!(tenant.slug, "demo");
    let problems: Vec<String> = urls
        .iter()
        .filter_map(|url| unreachable_both_ways(&compose, url))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");

    // The suite simulator's login links (the popup's redirect) go to browsers too.
    let suite = strings(&compose["services"]["sim-suite"]["command"]);
    let at = suite
        .iter()
        .position(|arg| arg == "--public-url")
        .expect("the suite simulator says which URL browsers reach it by");
    assert_eq!(
        suite[at + 1],
        tenant_toml["suite"]["app_url"].as_str().expect("app_url")
    );
}

#[test]
fn kubernetes_manifests_hold_every_part_with_probes_and_no_root() {
    let documents = k8s_documents();
    let kinds: Vec<&str> = documents
        .iter()
        .map(|(_, d)| d["kind"].as_str().expect("kind"))
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count("Deployment"), 2, "{kinds:?}");
    assert_eq!(count("HorizontalPodAutoscaler"), 2, "{kinds:?}");
    assert_eq!(count("PodDisruptionBudget"), 2, "{kinds:?}");
    for kind in ["Service", "Job", "ConfigMap", "Secret", "Kustomization"] {
        assert_eq!(count(kind), 1, "{kind} in {kinds:?}");
    }
    // The kustomization lists every other file.
    let (_, kustomization) = documents
        .iter()
        .find(|(_, d)| d["kind"] == "Kustomization")
        .expect("kustomization");
    let mut listed = strings(&kustomization["resources"]);
    listed.sort();
    let mut files: Vec<String> = documents
        .iter()
        .map(|(file, _)| file.clone())
        .filter(|file| file != "kustomization.yaml")
        .collect();
    files.dedup();
    assert_eq!(listed, files);

    for (file, document) in &documents {
        let spec = match document["kind"].as_str() {
            Some("Deployment" | "Job") => &document["spec"]["template"]["spec"],
            _ => continue,
        };
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{file}");
        assert_eq!(
            spec["enableServiceLinks"], false,
            "{file}: service links inject LIAISON_* variables the config refuses"
        );
        for container in spec["containers"].as_array().expect("containers") {
            assert_eq!(
                container["envFrom"][0]["secretRef"]["name"], "liaison",
                "{file}"
            );
            if document["kind"] == "Deployment" {
                assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
                assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
                assert!(container["resources"]["requests"]["cpu"].is_string());
            }
        }
    }
    let web = documents
        .iter()
        .find(|(_, d)| d["kind"] == "Deployment" && d["metadata"]["name"] == "liaison-web")
        .expect("the web Deployment");
    let args = strings(&web.1["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert_eq!(args, ["serve", "--no-workers"]);
    let secret = documents
        .iter()
        .find(|(_, d)| d["kind"] == "Secret")
        .expect("the Secret");
    for key in [
        "LIAISON_MASTER_KEY",
        "LIAISON_ADMIN_TOKEN",
        "LIAISON_DATABASE_URL",
    ] {
        assert!(secret.1["stringData"][key].is_string(), "{key}");
    }
}

#[test]
fn the_images_entry_point_is_this_packages_binary() {
    let binary = Path::new(env!("CARGO_BIN_EXE_liaison"))
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(binary, env!("CARGO_PKG_NAME"));
    let dockerfile = read(&deploy_dir().join("Dockerfile"));
    let instruction = |name: &str| -> Vec<String> {
        let line = dockerfile
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name}"));
        serde_json::from_str(line.trim()).expect("exec form")
    };
    let entry_point = instruction("ENTRYPOINT ");
    assert_eq!(entry_point, [format!("/usr/local/bin/{binary}")]);
    assert!(dockerfile.contains(&format!("cargo build --release --locked --bin {binary}")));
    assert!(dockerfile.contains(&format!(
        "COPY --from=builder /out/{binary} /usr/local/bin/{binary}"
    )));
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    assert_real_command("Dockerfile CMD", &instruction("CMD "));
}

#[test]
fn every_command_in_the_deployment_files_is_a_liaison_command() {
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    for (name, service) in liaison_services(&compose()) {
        let command = strings(&service["command"]);
        // Paths inside the container stand for files the command reads: `--help` ignores them.
        commands.push((format!("compose service {name}"), command));
    }
    for (file, document) in k8s_documents() {
        let spec = &document["spec"]["template"]["spec"];
        for container in spec["containers"].as_array().into_iter().flatten() {
            commands.push((format!("k8s {file}"), strings(&container["args"])));
        }
    }
    let unit = read(&deploy_dir().join("liaison.service"));
    for line in unit.lines() {
        if let Some(exec) = line
            .strip_prefix("ExecStart=")
            .or_else(|| line.strip_prefix("ExecStartPre="))
        {
            let mut words = exec.split_whitespace().map(str::to_owned);
            assert_eq!(words.next().as_deref(), Some("/usr/local/bin/liaison"));
            commands.push(("liaison.service".to_owned(), words.collect()));
        }
    }
    assert!(commands.len() >= 10, "{commands:?}");
    for (origin, args) in &commands {
        assert_real_command(origin, args);
    }
}

#[test]
fn the_kubernetes_configuration_is_accepted_by_liaison() {
    let documents = k8s_documents();
    let (_, config_map) = documents
        .iter()
        .find(|(_, d)| d["kind"] == "ConfigMap")
        .expect("the ConfigMap");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("liaison.toml");
    std::fs::write(
        &file,
        config_map["data"]["liaison.toml"].as_str().expect("toml"),
    )
    .expect("write");
    // Loading the configuration comes first for every command: a refused key fails this.
    let output = liaison(&[
        "--config".to_owned(),
        file.display().to_string(),
        "master-key".to_owned(),
        "generate".to_owned(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_worker_with_a_health_address_answers_the_probes_and_serves_metrics() {
    let database = crate::helpers::TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["worker", "--health-bind", &format!("127.0.0.1:{port}")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", database.url.expose())
        .env("LIAISON_MASTER_KEY", liaison::config::generate_master_key())
        .env("LIAISON_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start a worker");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("http://127.0.0.1:{port}{path}"));
        async move {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            Some((status, response.text().await.unwrap_or_default()))
        }
    };

    let health = crate::support::wait_until(
        std::time::Duration::from_secs(30),
        "the worker's health listener",
        || get("/healthz"),
    )
    .await;
    let ready = get("/readyz").await.expect("readyz");
    let metrics = get("/metrics").await.expect("metrics");

    assert_eq!(health.0, 200);
    assert_eq!(ready.0, 200, "{}", ready.1);
    assert_eq!(metrics.0, 200);
    assert!(metrics.1.contains("liaison_queue_jobs"), "{}", metrics.1);
    let (status, _) = get("/webhooks/acme/ats").await.expect("answer");
    assert_eq!(status, 404, "a worker serves the probes only");
}
