//! An example data job, built with `cargo build --target wasm32-wasip2 -p example-job`.
//!
//! It prints every secret of its job (the runner masks the values), then looks at a few it
//! knows: `db_password`, `db_config` (a JSON object) and `tls_key` (multi-line), each when the
//! job has it, and prints something derived from them. It stores `last_run` unless given
//! `--read-only`.
//!
//! Other arguments make it misbehave, to test the runner:
//! - `--connect HOST:PORT` tries to open a connection of its own (refused unless the job is
//!   allowed network);
//! - `--allocate MIB` allocates and fills MIB mebibytes, a mebibyte at a time;
//! - `--spin` loops for ever in its own code;
//! - `--sleep SECONDS` waits in the host (a clock subscription), doing nothing.
//!
//! With `--wasi-config` it reads its secrets through the standard `wasi:config/store`
//! (0.2.0-draft) instead, as a component written for other hosts would, and prints them.

wit_bindgen::generate!({
    inline: "
        package vdk:example-job;
        world job {
            include vdk:secrets/data-job@0.1.0;
            import wasi:config/store@0.2.0-draft;
        }
    ",
    path: ["../../wit", "../../runner/wit/wasi-config.wit"],
    world: "vdk:example-job/job",
    generate_all,
});

use vdk::secrets::store;

struct Job;

export!(Job);

/// The value after `flag` in the job's arguments.
fn argument(args: &[String], flag: &str) -> Result<Option<String>, String> {
    match args.iter().position(|a| a == flag) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .cloned()
            .map(Some)
            .ok_or_else(|| format!("{flag} needs a value")),
    }
}

fn describe(e: vdk::secrets::types::Error) -> String {
    format!("{}: {}", e.what, e.why)
}

impl Guest for Job {
    fn run() -> Result<(), String> {
        let args: Vec<String> = std::env::args().collect();
        if let Some(target) = argument(&args, "--connect")? {
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
        if let Some(mebibytes) = argument(&args, "--allocate")? {
            let mebibytes: usize = mebibytes.parse().map_err(|_| "--allocate needs a number")?;
            println!("allocating {mebibytes} MiB");
            let mut kept: Vec<Vec<u8>> = Vec::new();
            for i in 0..mebibytes {
                kept.push(vec![i as u8 | 1; 1 << 20]);
            }
            println!("allocated {} MiB", kept.len());
            return Ok(());
        }
        if args.iter().any(|a| a == "--spin") {
            println!("spinning");
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        if let Some(seconds) = argument(&args, "--sleep")? {
            let seconds: u64 = seconds.parse().map_err(|_| "--sleep needs a number")?;
            println!("sleeping {seconds} s");
            std::thread::sleep(std::time::Duration::from_secs(seconds));
            println!("slept");
            return Ok(());
        }

        if args.iter().any(|a| a == "--wasi-config") {
            use wasi::config::store as config;
            let shown = |e: config::Error| format!("wasi:config: {e:?}");
            let all = config::get_all().map_err(shown)?;
            println!("wasi:config values: {}", all.len());
            for (key, value) in &all {
                println!("  {key} = {value}");
            }
            match config::get("db_password").map_err(shown)? {
                Some(password) => println!("db_password via wasi:config: {password}"),
                None => println!("no db_password via wasi:config"),
            }
            return Ok(());
        }
        let all = store::get_all_secrets().map_err(describe)?;
        println!("secrets: {}", all.len());
        for (name, json) in &all {
            println!("  {name} = {json}");
        }
        let get = |name: &str| store::get_secret(name).map_err(describe);
        let password: Option<String> = match get("db_password")? {
            Some(json) => Some(serde_json::from_str(&json).map_err(|e| e.to_string())?),
            None => None,
        };
        match &password {
            Some(password) => {
                println!("password: {password}");
                println!("password length: {}", password.chars().count());
                if args.iter().any(|a| a == "--encoded") {
                    print_encoded(password);
                }
            }
            None => println!("no db_password among the secrets"),
        }
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
        if !args.iter().any(|a| a == "--read-only") {
            store::set_secret("last_run", "\"ok\"").map_err(describe)?;
            println!("stored last_run");
        }
        if let Some(password) = &password {
            eprintln!("done, stderr sees {password} masked too");
        } else {
            eprintln!("done");
        }
        Ok(())
    }
}

/// Prints `secret` in the encoded forms a job most often prints, one form a line.
fn print_encoded(secret: &str) {
    let base64 = |bytes: &[u8]| -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    ALPHABET[((v >> (18 - 6 * i)) & 0x3F) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    };
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let unicode: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let url: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    println!("base64: {}", base64(secret.as_bytes()));
    println!("basic: {}", base64(format!("svc:{secret}").as_bytes()));
    println!("hex: {hex}");
    println!("HEX: {}", hex.to_uppercase());
    println!("unicode: {unicode}");
    println!("url: {url}");
}
