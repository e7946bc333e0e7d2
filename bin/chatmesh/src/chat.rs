//! `chatmesh chat`: talk to the chatbot over gRPC. `chatmesh chat "who manages Alan Turing?"`
//! asks once and prints the answer with its sources and the backend that answered;
//! `chatmesh chat` alone reads one question per line from standard input (a conversation in one
//! session, so "and who manages her?" works) until end of input or `/quit`.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use chatmesh_proto::chat::chat_service_client::ChatServiceClient;
use chatmesh_proto::chat::{
    ChatRequest, ChatResponse, ChatStreamRequest, DeleteSessionRequest, SourceKind,
    chat_stream_response,
};
use chatmesh_proto::router::{RouteHints, Target};
use chatmesh_runtime::auth::{BearerToken, Secret};
use chatmesh_runtime::channel::{ClientArgs, connect};
use chatmesh_runtime::config::parse_duration;
use chatmesh_runtime::probe::client_tls;
use chatmesh_runtime::tls::TlsFileArgs;
use tokio::io::AsyncBufReadExt;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

#[derive(Debug, clap::Args)]
pub(crate) struct ChatArgs {
    /// The question; without it, questions are read from standard input, one per line.
    #[arg(value_name = "MESSAGE", num_args = 0.., trailing_var_arg = true)]
    message: Vec<String>,
    /// Address of the chatbot, `HOST:PORT` or `http://HOST:PORT`.
    #[arg(
        long,
        env = "CHATMESH_CHAT_ADDR",
        default_value = "127.0.0.1:50051",
        value_name = "ADDR"
    )]
    addr: String,
    /// Session id (default: a new one per run).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Ask this backend: graph, vector or relational (a routing hint).
    #[arg(long, value_name = "TARGET", value_parser = ["graph", "vector", "relational"])]
    target: Option<String>,
    /// Show the workflow's steps as they happen (ChatStream).
    #[arg(long)]
    events: bool,
    /// Deadline of each question.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    timeout: Duration,
    /// Bearer token for a chatbot that requires one (sent as `authorization: Bearer <token>`).
    #[arg(
        long,
        env = "CHATMESH_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<Secret>,
    /// mTLS towards a chatbot that requires client certificates (e.g. `chatmesh certs` output).
    #[command(flatten)]
    tls: TlsFileArgs,
    /// With mTLS: the name the chatbot's certificate must carry [default: the address's host].
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
}

fn kind_name(kind: i32) -> &'static str {
    match SourceKind::try_from(kind) {
        Ok(SourceKind::GraphNode) => "graph node",
        Ok(SourceKind::Document) => "document",
        Ok(SourceKind::Order) => "order",
        _ => "source",
    }
}

fn target_name(target: i32) -> &'static str {
    match Target::try_from(target) {
        Ok(Target::Graph) => "graph",
        Ok(Target::Vector) => "vector",
        Ok(Target::Relational) => "relational",
        _ => "none",
    }
}

/// The answer as the user reads it.
pub(crate) fn render(r: &ChatResponse) -> String {
    let mut text = format!("{}\n", r.answer);
    for s in &r.sources {
        let score = s
            .score
            .map(|v| format!(" (score {v:.3})"))
            .unwrap_or_default();
        text.push_str(&format!(
            "  [{} {}] {}{score}\n",
            kind_name(s.kind),
            s.id,
            s.title
        ));
    }
    let how = r
        .explanation
        .as_ref()
        .map(|e| {
            let decision = e
                .decision()
                .as_str_name()
                .trim_start_matches("DECISION_")
                .to_ascii_lowercase();
            if e.rule.is_empty() {
                format!(" ({decision})")
            } else {
                format!(" ({decision}: {})", e.rule)
            }
        })
        .unwrap_or_default();
    text.push_str(&format!("  answered by: {}{how}\n", target_name(r.target)));
    if let Some(d) = &r.degraded {
        text.push_str(&format!(
            "  degraded: {} {:?}: {}\n",
            target_name(d.target),
            tonic::Code::from(d.code),
            d.message
        ));
    }
    text
}

struct Session {
    client: ChatServiceClient<InterceptedService<Channel, BearerToken>>,
    id: String,
    hints: Option<RouteHints>,
    events: bool,
    timeout: Duration,
}

impl Session {
    async fn ask(&mut self, message: String) -> Result<String, tonic::Status> {
        if !self.events {
            let mut request = tonic::Request::new(ChatRequest {
                session_id: self.id.clone(),
                message,
                hints: self.hints.clone(),
            });
            request.set_timeout(self.timeout);
            let response = self.client.chat(request).await?.into_inner();
            return Ok(render(&response));
        }
        let mut request = tonic::Request::new(ChatStreamRequest {
            session_id: self.id.clone(),
            message,
            hints: self.hints.clone(),
        });
        request.set_timeout(self.timeout);
        let mut stream = self.client.chat_stream(request).await?.into_inner();
        let mut text = String::new();
        while let Some(item) = stream.message().await? {
            match item.event {
                Some(chat_stream_response::Event::WorkflowEvent(e)) => {
                    let kind = e
                        .kind()
                        .as_str_name()
                        .trim_start_matches("EVENT_KIND_NODE_");
                    let delta = e
                        .state_delta
                        .map(|d| {
                            let mut keys: Vec<String> = d.fields.into_keys().collect();
                            keys.sort();
                            keys.join(", ")
                        })
                        .filter(|k| !k.is_empty())
                        .map(|k| format!(" wrote {k}"))
                        .unwrap_or_default();
                    let ms = e
                        .elapsed
                        .map(|d| d.seconds as f64 * 1e3 + f64::from(d.nanos) / 1e6)
                        .unwrap_or_default();
                    text.push_str(&format!(
                        "  · step {} {} {}{delta} ({ms:.2} ms)\n",
                        e.step,
                        e.node,
                        kind.to_ascii_lowercase()
                    ));
                }
                Some(chat_stream_response::Event::FinalAnswer(a)) => {
                    text.push_str(&render(&ChatResponse {
                        answer: a.answer,
                        sources: a.sources,
                        target: a.target,
                        explanation: a.explanation,
                        fallback: a.fallback,
                        degraded: a.degraded,
                    }));
                }
                None => {}
            }
        }
        Ok(text)
    }
}

pub(crate) async fn run(args: ChatArgs) -> ExitCode {
    match execute(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chatmesh chat: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(args: ChatArgs) -> Result<ExitCode, String> {
    let client = ClientArgs {
        tls: client_tls(&args.tls, args.tls_server_name.as_deref())?,
        ..ClientArgs::default()
    };
    let channel = connect(&args.addr, &client)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", args.addr))?;
    let id = args.session.clone().unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!("cli-{}-{nanos}", std::process::id())
    });
    let hints = args.target.as_deref().map(|t| RouteHints {
        target: Some(match t {
            "graph" => Target::Graph,
            "vector" => Target::Vector,
            _ => Target::Relational,
        } as i32),
        ..RouteHints::default()
    });
    let bearer = BearerToken::new(args.token.as_ref()).map_err(|e| format!("--token: {e}"))?;
    let mut session = Session {
        client: ChatServiceClient::with_interceptor(channel, bearer),
        id,
        hints,
        events: args.events,
        timeout: args.timeout,
    };
    if !args.message.is_empty() {
        let text = session
            .ask(args.message.join(" "))
            .await
            .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?;
        print!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "chatmesh chat (session {}): ask a question; /reset starts over, /quit ends.",
            session.id
        );
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut failed = false;
    loop {
        if interactive {
            print!("> ");
            let _ = std::io::stdout().flush();
        }
        let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? else {
            break;
        };
        let line = line.trim();
        match line {
            "" => continue,
            "/quit" | "/exit" => break,
            "/reset" => {
                let request = DeleteSessionRequest {
                    session_id: session.id.clone(),
                    allow_missing: true,
                };
                match session.client.delete_session(request).await {
                    Ok(_) => println!("session reset"),
                    Err(s) => eprintln!("error: {:?}: {}", s.code(), s.message()),
                }
            }
            question => match session.ask(question.to_owned()).await {
                Ok(text) => print!("{text}"),
                Err(s) => {
                    failed = true;
                    eprintln!("error: {:?}: {}", s.code(), s.message());
                }
            },
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
