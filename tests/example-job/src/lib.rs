//! An example data job, built with `cargo build --target wasm32-wasip2 -p example-job`.
//!
//! It reads `db_password`, `db_config` (a JSON object) and `tls_key` (multi-line), prints them
//! and something derived from them (the runner masks the values), stores `last_run`, and with
//! the argument `--connect HOST:PORT` tries to open a connection of its own (which the runner
//! refuses unless the job is allowed network). With `--read-only` it stores nothing.

wit_bindgen::generate!({
    world: "data-job",
    path: "../../wit",
});

use vdk::secrets::store;

struct Job;

export!(Job);

impl Guest for Job {
    fn run() -> Result<(), String> {
        let args: Vec<String> = std::env::args().collect();
        if let Some(i) = args.iter().position(|a| a == "--connect") {
            let target = args.get(i + 1).ok_or("--connect needs HOST:PORT")?;
            return match std::net::TcpStream::connect(target.as_str()) {
                Ok(_) => Err(format!(
                    "connected to {target}, which should have been refused"
                )),
                Err(e) => {
                    println!("connection to {target} refused: {e}");
                    Ok(())
                }
            };
        }
        let get =
            |name: &str| store::get_secret(name).map_err(|e| format!("{}: {}", e.what, e.why));
        let password: String = match get("db_password")? {
            Some(json) => serde_json::from_str(&json).map_err(|e| e.to_string())?,
            None => return Err("the secret db_password is missing".into()),
        };
        println!("password: {password}");
        println!("password length: {}", password.chars().count());
        if let Some(config) = get("db_config")? {
            let config: serde_json::Value =
                serde_json::from_str(&config).map_err(|e| e.to_string())?;
            println!("config: {config}");
            println!(
                "connecting to {}:{} as {}",
                config["host"], config["port"], config["user"]
            );
        }
        if let Some(key) = get("tls_key")? {
            let key: String = serde_json::from_str(&key).map_err(|e| e.to_string())?;
            // Written in pieces, as a streaming job would.
            for chunk in key.as_bytes().chunks(5) {
                print!("{}", String::from_utf8_lossy(chunk));
            }
            println!();
        }
        let all = store::get_all_secrets().map_err(|e| format!("{}: {}", e.what, e.why))?;
        println!("secrets: {}", all.len());
        if !args.iter().any(|a| a == "--read-only") {
            store::set_secret("last_run", "\"ok\"")
                .map_err(|e| format!("{}: {}", e.what, e.why))?;
        }
        eprintln!("done, stderr sees {password} masked too");
        Ok(())
    }
}
