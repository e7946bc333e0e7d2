//! Who the operator's tools are when they call services that check their callers
//! (docs/security.md): a client certificate (mTLS) or a peer token. `chatmesh bench` and
//! `chatmesh mcp` take these settings; `chatmesh chat` is a user at the front door instead
//! (`--token`).

use chatmesh_runtime::auth::ServiceTokenArgs;
use chatmesh_runtime::channel::ClientArgs;
use chatmesh_runtime::probe::client_tls;
use chatmesh_runtime::tls::TlsFileArgs;

/// mTLS and the peer token, for services that check who calls them.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CallerArgs {
    /// mTLS towards services that require client certificates (e.g. `chatmesh certs` output).
    #[command(flatten)]
    tls: TlsFileArgs,
    /// With mTLS: the name the service's certificate must carry [default: the address's host].
    #[arg(long, value_name = "NAME")]
    tls_server_name: Option<String>,
    /// The caller's token (`authorization: Bearer`), for services that check peer tokens.
    #[command(flatten)]
    token: ServiceTokenArgs,
}

impl CallerArgs {
    /// `base` with the TLS and the token these ask for.
    pub(crate) fn client(&self, base: ClientArgs) -> Result<ClientArgs, String> {
        let mut client = ClientArgs {
            tls: client_tls(&self.tls, self.tls_server_name.as_deref())?,
            ..base
        };
        client.with_token(&self.token).map_err(|e| e.to_string())?;
        Ok(client)
    }
}
