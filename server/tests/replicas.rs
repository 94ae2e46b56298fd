//! Two server replicas over one three-node OpenBao raft cluster: fifty concurrent writers on
//! both replicas add keys to one job while the raft leader is killed, and no acknowledged
//! write is lost.
//!
//! The replicas share nothing but Vault. Each points at a different standby node, which
//! forwards writes to the active node; If-Match writes become KV v2 check-and-set, which the
//! active node applies atomically. While the cluster has no leader, writes fail with 503 and an
//! error body; once the two remaining nodes elect a leader, writes succeed again.
//!
//! Both ways a standby can treat reads are covered: forwarding them to the active node
//! (`disable_standby_reads = true`: a read through any node sees every acknowledged write, and
//! fails with 503 while there is no leader), and OpenBao's default of answering them from the
//! standby's own copy, which may lag the active node by a few milliseconds (a stale version
//! then fails check-and-set with 412 and the client redoes its change, so nothing is lost).

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Server, bao_binary, free_port};
use vdk_secrets::ErrorKind;

const TEAM: &str = "team";
const JOB: &str = "job";
const CLIENTS: usize = 50;
const KEYS_PER_CLIENT: usize = 4;
/// Attempts per key: a failed `set` (503 while there is no leader) is tried again after
/// `RETRY_PAUSE`, so that a client rides out the election.
const ATTEMPTS_PER_KEY: usize = 40;
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// The leader is killed once this many keys are acknowledged.
const KILL_AFTER_ACKS: usize = CLIENTS * KEYS_PER_CLIENT / 4;

/// One OpenBao node of the cluster: its ports, its config and data, its process and log.
struct Node {
    name: String,
    api_port: u16,
    cluster_port: u16,
    dir: PathBuf,
    /// None once killed.
    child: Mutex<Option<Child>>,
}

impl Node {
    fn addr(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.join("bao.log")).unwrap_or_default()
    }

    /// Whether the process has ended (or was killed).
    fn exited(&self) -> bool {
        match self.child.lock().unwrap().as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(Some(_))),
            None => true,
        }
    }

    /// SIGKILL by PID, as a crash would.
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A three-node OpenBao raft cluster on loopback, initialised, unsealed, KV v2 at `secret/`.
struct Cluster {
    nodes: Vec<Node>,
    root_token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.kill();
        }
    }
}

/// Why a cluster start failed: a port was taken between picking and binding (start again on
/// other ports), or anything else (give up).
enum StartError {
    PortTaken(String),
    Failed(String),
}

impl Cluster {
    /// Starts the cluster, again on other ports when another process takes one of them first.
    /// `standby_reads`: whether standbys answer reads themselves (OpenBao's default).
    async fn start(standby_reads: bool) -> Cluster {
        let mut last = String::new();
        for attempt in 1..=4 {
            match Self::try_start(standby_reads).await {
                Ok(cluster) => return cluster,
                Err(StartError::PortTaken(log)) => {
                    println!("cluster start {attempt}: a port was taken; other ports");
                    last = log;
                }
                Err(StartError::Failed(why)) => panic!("{why}"),
            }
        }
        panic!("the cluster lost a port race four times; the last log:\n{last}");
    }

    async fn try_start(standby_reads: bool) -> Result<Cluster, StartError> {
        let dir = tempfile::tempdir().unwrap();
        // Six distinct ports, an API port and a cluster port per node, each picked on its own
        // rather than as P and P + 1: Linux answers bind(0) with odd ports and gives outgoing
        // connections even ones first, and a node binds its cluster port only when unsealed,
        // seconds after the pick, so an even P + 1 is the likelier to be taken meanwhile.
        let mut ports: Vec<u16> = Vec::new();
        while ports.len() < 6 {
            let port = free_port();
            if !ports.contains(&port) {
                ports.push(port);
            }
        }
        let nodes: Vec<Node> = (0..3)
            .map(|i| Node {
                name: format!("node{}", i + 1),
                api_port: ports[2 * i],
                cluster_port: ports[2 * i + 1],
                dir: dir.path().join(format!("node{}", i + 1)),
                child: Mutex::new(None),
            })
            .collect();
        let api_ports: Vec<u16> = nodes.iter().map(|n| n.api_port).collect();
        for node in &nodes {
            let joins: String = api_ports
                .iter()
                .filter(|&&p| p != node.api_port)
                .map(|p| {
                    format!(
                        "  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{p}\"\n  }}\n"
                    )
                })
                .collect();
            std::fs::create_dir_all(node.dir.join("data")).unwrap();
            let (api, cluster) = (node.api_port, node.cluster_port);
            // performance_multiplier = 1: the quickest raft timing, so that the survivors
            // elect a leader within seconds; autopilot checks often, so that joined nodes
            // become voters within seconds too.
            let config = format!(
                "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"{name}\"\n  \
                 performance_multiplier = 1\n  autopilot_reconcile_interval = \"1s\"\n  \
                 autopilot_update_interval = \"500ms\"\n{joins}}}\n\
                 listener \"tcp\" {{\n  address = \"127.0.0.1:{api}\"\n  \
                 cluster_address = \"127.0.0.1:{cluster}\"\n  tls_disable = true\n}}\n\
                 api_addr = \"http://127.0.0.1:{api}\"\n\
                 cluster_addr = \"http://127.0.0.1:{cluster}\"\n\
                 disable_standby_reads = {}\n",
                !standby_reads,
                data = node.dir.join("data").display(),
                name = node.name,
            );
            std::fs::write(node.dir.join("bao.hcl"), config).unwrap();
        }
        for node in &nodes {
            let log = std::fs::File::create(node.dir.join("bao.log")).unwrap();
            let child = Command::new(bao_binary())
                .arg("server")
                .arg(format!("-config={}", node.dir.join("bao.hcl").display()))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("bao starts");
            *node.child.lock().unwrap() = Some(child);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut cluster = Cluster {
            nodes,
            root_token: String::new(),
            http,
            _dir: dir,
        };
        cluster.bring_up().await?;
        Ok(cluster)
    }

    /// Whether a start-up wait goes on: Err at once on a port race or when a node has exited,
    /// and when `deadline` has passed, saying `what` was awaited.
    fn keep_waiting(
        &self,
        deadline: Instant,
        what: impl FnOnce() -> String,
    ) -> Result<(), StartError> {
        if let Some(race) = self.port_race() {
            return Err(race);
        }
        if Instant::now() > deadline || self.nodes.iter().any(Node::exited) {
            return Err(StartError::Failed(format!(
                "waiting for {}\n{}",
                what(),
                self.logs()
            )));
        }
        Ok(())
    }

    /// Some(PortTaken) when a node's log says one of its ports was taken.
    fn port_race(&self) -> Option<StartError> {
        self.nodes.iter().find_map(|node| {
            let log = node.log_text();
            log.contains("address already in use")
                .then(|| StartError::PortTaken(format!("--- {} log:\n{log}", node.name)))
        })
    }

    /// Init and unseal node 1, unseal (and so join) nodes 2 and 3, wait for three voters,
    /// mount KV v2.
    async fn bring_up(&mut self) -> Result<(), StartError> {
        // Node 1: listening, then initialised with one key share.
        let deadline = Instant::now() + Duration::from_secs(60);
        let init = loop {
            let (status, body) = self
                .call(
                    0,
                    "PUT",
                    "/v1/sys/init",
                    Some(json!({"secret_shares": 1, "secret_threshold": 1})),
                )
                .await;
            if status == 200 {
                break body;
            }
            self.keep_waiting(deadline, || {
                format!("node1 to initialise ({status} {body})")
            })?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let key = init["keys"][0].as_str().unwrap().to_string();
        self.root_token = init["root_token"].as_str().unwrap().to_string();
        self.unseal(0, &key).await?;
        self.wait_active(0).await?;
        // Autopilot promotes a joined node to voter once it has been healthy this long.
        let (status, body) = self
            .call(
                0,
                "POST",
                "/v1/sys/storage/raft/autopilot/configuration",
                Some(json!({"server_stabilization_time": "1s"})),
            )
            .await;
        assert!(status < 300, "autopilot configuration: {status} {body}");
        // Nodes 2 and 3 join through retry_join once they have the unseal key.
        let started = Instant::now();
        // Both at once: each waits for its join to complete.
        let (a, b) = tokio::join!(self.unseal(1, &key), self.unseal(2, &key));
        a?;
        b?;
        println!("cluster: nodes 2 and 3 joined in {:?}", started.elapsed());
        self.wait_voters().await?;
        let (status, body) = self
            .call(
                0,
                "POST",
                "/v1/sys/mounts/secret",
                Some(json!({"type": "kv", "options": {"version": "2"}})),
            )
            .await;
        assert!(status < 300, "mount: {status} {body}");
        // KV v2 upgrades its storage after mounting; wait until every node serves it.
        for i in 0..3 {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let (status, body) = self
                    .call(i, "GET", "/v1/secret/data/ready/probe", None)
                    .await;
                if status == 404 {
                    break;
                }
                self.keep_waiting(deadline, || {
                    format!("{} to serve KV v2 ({status} {body})", self.nodes[i].name)
                })?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Unseals node `i` and waits until it says it is unsealed (for nodes 2 and 3 this
    /// includes joining the cluster).
    async fn unseal(&self, i: usize, key: &str) -> Result<(), StartError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self
                .call(i, "PUT", "/v1/sys/unseal", Some(json!({"key": key})))
                .await;
            if status == 200 && body["sealed"] == json!(false) {
                return Ok(());
            }
            self.keep_waiting(deadline, || {
                format!("{} to unseal ({status} {body})", self.nodes[i].name)
            })?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_active(&self, i: usize) -> Result<(), StartError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, _) = self.call(i, "GET", "/v1/sys/health", None).await;
            if status == 200 {
                return Ok(());
            }
            self.keep_waiting(deadline, || {
                format!("{} to become active ({status})", self.nodes[i].name)
            })?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the raft configuration lists three voters.
    async fn wait_voters(&self) -> Result<(), StartError> {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(60);
        loop {
            let (status, body) = self
                .call(0, "GET", "/v1/sys/storage/raft/configuration", None)
                .await;
            let servers = body
                .pointer("/data/config/servers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let voters = servers.iter().filter(|s| s["voter"] == json!(true)).count();
            if status == 200 && voters == 3 {
                println!(
                    "cluster: three voters {:?} after the joins",
                    started.elapsed()
                );
                return Ok(());
            }
            self.keep_waiting(deadline, || {
                format!("three voters ({voters} now: {status} {body})")
            })?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The index of the node that says it is the active one, if any answers so.
    async fn leader(&self) -> Option<usize> {
        for (i, node) in self.nodes.iter().enumerate() {
            if node.exited() {
                continue;
            }
            let (status, body) = self.call(i, "GET", "/v1/sys/leader", None).await;
            if status == 200 && body["is_self"] == json!(true) {
                return Some(i);
            }
        }
        None
    }

    /// Waits (bounded) until some live node is the active one.
    async fn wait_for_leader(&self, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.leader().await {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "no node became the leader within {within:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Makes node `i` the leader by asking other leaders to step down (bounded).
    async fn make_leader(&self, i: usize) {
        for _ in 0..10 {
            let current = self.wait_for_leader(Duration::from_secs(30)).await;
            if current == i {
                return;
            }
            let (status, body) = self.call(current, "PUT", "/v1/sys/step-down", None).await;
            assert!(status < 300, "step-down: {status} {body}");
            // The old leader stays out of the next election for a moment.
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.leader().await == Some(current) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!(
            "{} did not become the leader after ten step-downs\n{}",
            self.nodes[i].name,
            self.logs()
        );
    }

    /// One call to node `i` with the root token: status and JSON body; status 0 when nothing
    /// answered.
    async fn call(&self, i: usize, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.nodes[i].addr());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, url)
            .header("X-Vault-Token", &self.root_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let Ok(response) = request.send().await else {
            return (0, Value::Null);
        };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every node's log, for a failure message.
    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {} log:\n{}", n.name, n.log_text()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What the writers saw, shared between them and the test.
#[derive(Default)]
struct Tally {
    /// Key → value, for every `set` that returned Ok.
    acknowledged: Mutex<BTreeMap<String, String>>,
    acked: AtomicUsize,
    acked_after_kill: AtomicUsize,
    /// Keys given up after every attempt failed.
    given_up: AtomicUsize,
    /// Failed attempts by kind and status.
    failures: Mutex<HashMap<(ErrorKind, Option<u16>), usize>>,
    unavailable: AtomicUsize,
    /// When the leader was killed (set once).
    killed_at: Mutex<Option<Instant>>,
}

/// Client `n`: sets its keys one after the other through `url`, each until acknowledged or
/// out of attempts.
async fn writer(n: usize, url: String, tally: Arc<Tally>) {
    // Fifty writers on one job conflict often; the client redoes its change each time.
    let client = support::client(&url, TEAM, JOB, None).with_conflict_attempts(1000);
    for k in 0..KEYS_PER_CLIENT {
        let (name, value) = (format!("c{n:02}_k{k}"), format!("value-{n}-{k}"));
        let mut acknowledged = false;
        for _ in 0..ATTEMPTS_PER_KEY {
            match client.set(&name, value.clone().into()).await {
                Ok(()) => {
                    let after_kill = tally.killed_at.lock().unwrap().is_some();
                    tally
                        .acknowledged
                        .lock()
                        .unwrap()
                        .insert(name.clone(), value.clone());
                    tally.acked.fetch_add(1, Ordering::SeqCst);
                    if after_kill {
                        tally.acked_after_kill.fetch_add(1, Ordering::SeqCst);
                    }
                    acknowledged = true;
                    break;
                }
                Err(e) => {
                    if e.status() == Some(503) {
                        tally.unavailable.fetch_add(1, Ordering::SeqCst);
                    }
                    *tally
                        .failures
                        .lock()
                        .unwrap()
                        .entry((e.kind(), e.status()))
                        .or_default() += 1;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
        if !acknowledged {
            tally.given_up.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Each scenario runs three OpenBao nodes, two replicas and fifty writers; one at a time keeps
/// them from starving each other on a small machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_lose_no_acknowledged_write_when_the_leader_dies_standbys_forwarding_reads() {
    let _turn = ONE_AT_A_TIME.lock().await;
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_lose_no_acknowledged_write_when_the_leader_dies_standbys_serving_reads() {
    let _turn = ONE_AT_A_TIME.lock().await;
    scenario(true).await;
}

/// The whole run; `standby_reads`: whether standbys answer reads from their own copy.
async fn scenario(standby_reads: bool) {
    let label = if standby_reads {
        "[standbys serve reads]"
    } else {
        "[standbys forward reads]"
    };
    let t0 = Instant::now();
    let cluster = Cluster::start(standby_reads).await;
    // The replicas point at nodes 2 and 3; node 1, which bootstrapped the cluster, is the
    // leader that gets killed. (Should an election have moved the lead, move it back.)
    cluster.make_leader(0).await;
    println!(
        "{label} cluster of three voters ready in {:?}",
        t0.elapsed()
    );

    let env = [("VAULT_TOKEN", cluster.root_token.as_str())];
    let replicas: Vec<Server> = [1, 2]
        .iter()
        .map(|&i| {
            let addr = cluster.nodes[i].addr();
            Server::start(
                &["--dev", "--backend", "vault", "--vault-addr", &addr],
                &env,
            )
        })
        .collect();
    let server_logs = || {
        replicas
            .iter()
            .map(|s| format!("--- replica at {} log:\n{}", s.url, s.log_text()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // A write through one standby is read through both: at once when standbys forward reads,
    // within moments when they answer from their own copy (even the standby the write went
    // through may not have it yet).
    let c1 = replicas[0].client(TEAM, JOB, None);
    let c2 = replicas[1].client(TEAM, JOB, None);
    c1.set("seed", "through-node2".into()).await.unwrap();
    let written = Instant::now();
    for (c, node) in [(&c2, "node3"), (&c1, "node2")] {
        loop {
            let seen = c.read_all().await.unwrap();
            if seen.get("seed").map(|v| v.expose()) == Some(&json!("through-node2")) {
                break;
            }
            assert!(
                standby_reads && written.elapsed() < Duration::from_secs(10),
                "a write through node2 is not read through {node}\n{}",
                cluster.logs()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        println!(
            "{label} a write through node2 was read through {node} {:?} later",
            written.elapsed()
        );
    }
    // Once node2 has it, a delete through node2 finds it.
    c1.delete(&["seed"]).await.unwrap();

    let tally = Arc::new(Tally::default());
    let run_started = Instant::now();
    let writers: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let url = replicas[n % 2].url.clone();
            tokio::spawn(writer(n, url, tally.clone()))
        })
        .collect();

    // Mid-run: kill the leader once a quarter of the keys are acknowledged.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.acked.load(Ordering::SeqCst) < KILL_AFTER_ACKS {
        assert!(
            Instant::now() < deadline,
            "only {} keys acknowledged after 60 s\n{}\n{}",
            tally.acked.load(Ordering::SeqCst),
            server_logs(),
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Under load an election may have moved the lead; it must be on the node no replica uses.
    cluster.make_leader(0).await;
    let acked_before_kill = tally.acked.load(Ordering::SeqCst);
    cluster.nodes[0].kill();
    let killed = Instant::now();
    *tally.killed_at.lock().unwrap() = Some(killed);
    println!(
        "{label} killed the leader (node1) {:?} into the run, with {acked_before_kill} keys \
         acknowledged",
        killed - run_started
    );

    // While there is no leader, a read through a replica is a 503 with an error body when
    // standbys forward reads; when they serve reads, a write is (a PUT of the set just read,
    // with its ETag, which changes nothing should it succeed).
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut unavailable = None;
    let poll_deadline = Instant::now() + Duration::from_secs(15);
    'poll: while Instant::now() < poll_deadline {
        for replica in &replicas {
            let url = replica.secrets_url(TEAM, JOB);
            let Ok(read) = http.get(&url).send().await else {
                continue;
            };
            let status = read.status().as_u16();
            let etag = read.headers().get("etag").cloned();
            let body = read.bytes().await.unwrap_or_default();
            if status == 503 {
                unavailable = Some(("GET", replica.url.clone(), body, killed.elapsed()));
                break 'poll;
            }
            let Some(etag) = etag.filter(|_| status == 200 && standby_reads) else {
                continue;
            };
            let write = http
                .put(&url)
                .header("If-Match", etag)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await;
            let Ok(write) = write else { continue };
            if write.status().as_u16() == 503 {
                let body = write.bytes().await.unwrap_or_default();
                unavailable = Some(("PUT", replica.url.clone(), body, killed.elapsed()));
                break 'poll;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (method, replica_url, body, after) = unavailable.unwrap_or_else(|| {
        panic!(
            "no request through a replica answered 503 within 15 s of the kill\n{}\n{}",
            server_logs(),
            cluster.logs()
        )
    });
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    println!("{label} {method} through {replica_url} {after:?} after the kill: 503 {body}");
    assert_eq!(method == "GET", !standby_reads);
    for field in ["what", "why", "consequences", "countermeasures"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "the 503 body lacks `{field}`: {body}"
        );
    }

    // The two survivors elect a leader.
    let new_leader = cluster.wait_for_leader(Duration::from_secs(60)).await;
    println!(
        "{label} {} leads {:?} after the kill",
        cluster.nodes[new_leader].name,
        killed.elapsed()
    );

    // Let the writers finish (each has bounded attempts).
    let all_done = async {
        for w in writers {
            w.await.unwrap();
        }
    };
    if tokio::time::timeout(Duration::from_secs(120), all_done)
        .await
        .is_err()
    {
        panic!(
            "the writers did not finish within 120 s\n{}\n{}",
            server_logs(),
            cluster.logs()
        );
    }
    let run = run_started.elapsed();

    // Both replicas read the same set at the same version (once the standbys have caught up,
    // when they serve reads), holding every acknowledged key with its value.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (v1, v2) = loop {
        let v1 = c1.read_versioned().await.unwrap();
        let v2 = c2.read_versioned().await.unwrap();
        if v1.etag == v2.etag {
            break (v1, v2);
        }
        assert!(
            standby_reads && Instant::now() < deadline,
            "the replicas read different versions: {:?} and {:?}",
            v1.etag,
            v2.etag
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        v1.secrets.names().collect::<Vec<_>>(),
        v2.secrets.names().collect::<Vec<_>>(),
        "the replicas read different sets at one version"
    );
    let acknowledged = tally.acknowledged.lock().unwrap().clone();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|(name, value)| {
            [&v1.secrets, &v2.secrets]
                .iter()
                .any(|s| s.get(name).map(|v| v.expose()) != Some(&json!(value)))
        })
        .map(|(name, _)| name)
        .collect();
    let failures = tally.failures.lock().unwrap().clone();
    let conflicts = server_logs().matches("status=412").count();
    println!(
        "{label} {CLIENTS} writers, {} keys: {} acknowledged ({} after the kill), {} given up, \
         {} stored; failed attempts {failures:?}; 503s seen by writers {}; 412s answered by the \
         replicas {conflicts}; writers ran {run:?}; the test took {:?}",
        CLIENTS * KEYS_PER_CLIENT,
        acknowledged.len(),
        tally.acked_after_kill.load(Ordering::SeqCst),
        tally.given_up.load(Ordering::SeqCst),
        v1.secrets.len(),
        tally.unavailable.load(Ordering::SeqCst),
        t0.elapsed()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        tally.acked_after_kill.load(Ordering::SeqCst) > 0,
        "no write was acknowledged after the leader was killed"
    );
    assert!(
        failures
            .keys()
            .all(|(kind, _)| *kind == ErrorKind::Unavailable),
        "writers failed for other reasons than an unavailable backend: {failures:?}"
    );
}
