//! SigV4 signing (service `bedrock`), or a Bedrock API key as a bearer
//! token.
//!
//! Signing is done by the maintained `aws-sigv4` crate; this file only
//! feeds it the finished request and the endpoint's credentials, region
//! and clock. The signature covers the method, the path (double
//! percent-encoded in the canonical request, AWS's rule for every service
//! but S3, which matters for model ids holding `:`), the headers present
//! when signing (`host`, `content-type`, `accept`, configured extra
//! headers, `x-amz-date`, and `x-amz-security-token` for temporary
//! credentials) and the SHA-256 of the body. The headers it adds
//! (`authorization`, `x-amz-date`, `x-amz-security-token`) are marked
//! sensitive where they hold secrets. Nothing here logs or formats a
//! credential.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::HeaderValue;

use crate::{AwsCredentials, ProviderEndpoint, TranslateError};

/// The SigV4 service name of Bedrock Runtime.
pub(super) const SERVICE: &str = "bedrock";

/// Authenticate `request`: SigV4 when AWS credentials are configured,
/// else `Authorization: Bearer` with the configured API key, else nothing
/// (Bedrock will answer 403).
pub(super) fn authenticate(
    endpoint: &ProviderEndpoint,
    request: &mut http::Request<Bytes>,
) -> Result<(), TranslateError> {
    if let Some(aws) = &endpoint.aws {
        let region = endpoint.region.as_deref().unwrap_or_default();
        if region.is_empty() {
            return Err(TranslateError::Invalid {
                param: "region".to_owned(),
                message: format!(
                    "provider {} signs requests and needs a region",
                    endpoint.name
                ),
            });
        }
        return sign_request(request, aws, region, SERVICE, (endpoint.clock)());
    }
    if let Some(value) = endpoint
        .credential
        .as_ref()
        .and_then(|c| c.header_value("Bearer "))
    {
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
    }
    Ok(())
}

/// Sign `request` in place for `service` in `region` at `time`.
pub(super) fn sign_request(
    request: &mut http::Request<Bytes>,
    aws: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), TranslateError> {
    let failed = |e: &dyn std::fmt::Display| TranslateError::Invalid {
        param: "aws".to_owned(),
        message: format!("the request could not be signed: {e}"),
    };
    let identity = Credentials::new(
        aws.access_key_id.expose(),
        aws.secret_access_key.expose(),
        aws.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "switchyard-config",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let uri = request.uri().to_string();
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = std::str::from_utf8(value.as_bytes()).map_err(|e| failed(&e))?;
        headers.push((name.as_str(), value));
    }
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(&e))?
        .into_parts();
    // Applied by hand rather than with `apply_to_request_http1x`, which
    // unwraps: every value the signer produces is ASCII, but a failure
    // must stay an error here.
    let (added, _query) = instructions.into_parts();
    for header in added {
        let mut value = HeaderValue::from_str(header.value()).map_err(|e| failed(&e))?;
        value.set_sensitive(header.sensitive() || header.name() == "authorization");
        request.headers_mut().insert(header.name(), value);
    }
    Ok(())
}
