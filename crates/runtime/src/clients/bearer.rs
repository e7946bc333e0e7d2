//! The client side of bearer-token authentication (the server side is `crate::edge::auth`): an
//! interceptor that sends `authorization: Bearer <token>` with every call, for `chatmesh chat`
//! and tests that call an edge guarded by tokens.

use tonic::metadata::{Ascii, MetadataValue};

use crate::setting::Secret;

/// A client-side interceptor sending `authorization: Bearer <token>` with every call (nothing
/// without a token). The value is marked sensitive, so HTTP/2 never indexes it in HPACK tables.
#[derive(Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    /// The interceptor for `token`; fails when the token is not a valid header value.
    pub fn new(token: Option<&Secret>) -> Result<Self, String> {
        let Some(token) = token else {
            return Ok(Self(None));
        };
        let mut value: MetadataValue<_> = format!("Bearer {}", token.expose().trim())
            .parse()
            .map_err(|_| "the token has characters a header cannot carry".to_owned())?;
        value.set_sensitive(true);
        Ok(Self(Some(value)))
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BearerToken(<redacted>)"
        } else {
            "BearerToken(None)"
        })
    }
}

impl tonic::service::Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}
