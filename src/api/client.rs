//! [`Client`]: the typed HTTP client for every endpoint of the Pivotal v1
//! contract.
//!
//! Owns the base-URL rules (https, or plain http to loopback only), the
//! request headers, URL building and the mapping of responses to models or
//! [`ApiError`]. Retry timing is [`RetryPolicy`]'s; which calls may be
//! repeated is decided here, in [`Client::send`]. It must never print, log or
//! put the API key anywhere but the `Authorization` header.
//!
//! What a server sends is not trusted: a body larger than [`MAX_BODY_BYTES`]
//! is refused while it is read, a customer record that cannot be read is
//! skipped and counted rather than failing its page, and a listing whose
//! cursor goes round in circles is stopped.

use std::collections::HashSet;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use url::{Host, Url};

use super::{
    ApiError, ApiKey, Customer, CustomerPatch, ErrorEnvelope, HistoryEvent, IdempotencyKey, List,
    NewCustomer, Page, Result, RetryPolicy, User,
};
use crate::text::sanitize;

const USER_AGENT: &str = concat!("pivotal-tui/", env!("CARGO_PKG_VERSION"));
const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The wait assumed when a `429` has no usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
/// The largest response body the client reads. A page of 1000 customers is
/// well under 1 MiB; anything near this is a broken or hostile server.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// A client for one Pivotal API base URL and key. Cheap to clone: clones
/// share the connection pool and the key.
///
/// `Debug` shows the base URL and the masked key only.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    key: Arc<ApiKey>,
    retry: RetryPolicy,
    timeout: Duration,
}

/// The query of `GET /v1/customers`. Only the parameters that are set are
/// sent; `include_archived` is sent only when `true`.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// Page size, 1–1000 (server default 100).
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Only customers updated at or after this instant (sent as RFC 3339 UTC).
    pub updated_since: Option<OffsetDateTime>,
    /// Also return archived customers.
    pub include_archived: bool,
}

/// One page of `GET /v1/customers` as the client read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerPage {
    /// The customers that could be read, in the server's order.
    pub customers: Vec<Customer>,
    /// Records on the page that could not be read as a customer (a missing
    /// `name`, a bad date…): left out, logged, and counted here.
    pub skipped: usize,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
    /// The server's clock when it answered (its `Date` header), if it said.
    pub server_time: Option<OffsetDateTime>,
    /// A fingerprint of each unreadable record, so that a listing that
    /// keeps sending the same broken records is noticed.
    unreadable: Vec<u64>,
}

/// The pages of a customer listing, fetched one at a time by
/// [`Pages::next`] (see [`Client::pages`]).
///
/// A server whose cursors never end is stopped: a `next_cursor` seen
/// before in this listing, or a page with a `next_cursor` that brings no
/// record not already seen, ends it with [`ApiError::Decode`].
#[derive(Debug)]
pub struct Pages<'c> {
    client: &'c Client,
    /// The next page to ask for; `None` once the last page came.
    params: Option<ListParams>,
    /// Every cursor followed so far.
    cursors: HashSet<String>,
    /// A fingerprint of every record (id and version) seen so far.
    records: HashSet<u64>,
    skipped: usize,
    server_time: Option<OffsetDateTime>,
    /// Why the listing was stopped, if it was: every later call says so.
    stopped: Option<&'static str>,
}

impl Pages<'_> {
    /// The next page's customers, or `None` after the last page. Records
    /// that cannot be read are left out (see [`Pages::skipped`]).
    ///
    /// # Errors
    ///
    /// The request's error; asking again retries the same page. A cursor
    /// that repeats, or a page that brings nothing new but promises more,
    /// is a [`ApiError::Decode`] that ends the listing.
    pub async fn next(&mut self) -> Result<Option<Vec<Customer>>> {
        if let Some(reason) = self.stopped {
            return Err(ApiError::decode(reason));
        }
        let Some(params) = &mut self.params else {
            return Ok(None);
        };
        let page = self.client.list_customer_page(params).await?;
        self.skipped += page.skipped;
        if page.server_time.is_some() {
            self.server_time = page.server_time;
        }
        let mut new = false;
        for customer in &page.customers {
            new |= self
                .records
                .insert(fingerprint(&customer.id, customer.updated_at));
        }
        for unreadable in &page.unreadable {
            new |= self.records.insert(*unreadable);
        }
        match page.next_cursor {
            Some(cursor) => {
                let stopped = if !self.cursors.insert(cursor.clone()) {
                    Some("the server repeated a page cursor; stopped listing")
                } else if !new {
                    Some(
                        "the server sent a page with nothing new but a cursor for more; \
                         stopped listing",
                    )
                } else {
                    None
                };
                if let Some(reason) = stopped {
                    self.stopped = Some(reason);
                    return Err(ApiError::decode(reason));
                }
                params.cursor = Some(cursor);
            }
            None => self.params = None,
        }
        Ok(Some(page.customers))
    }

    /// How many records the pages so far held that could not be read.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The server's clock at its latest answer (its `Date` header), if it
    /// sent one.
    pub fn server_time(&self) -> Option<OffsetDateTime> {
        self.server_time
    }
}

/// Identifies one version of one record within a listing.
fn fingerprint(id: &str, updated_at: OffsetDateTime) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    updated_at.unix_timestamp_nanos().hash(&mut hasher);
    hasher.finish()
}

impl Client {
    /// A client for `base_url` (e.g. `https://api.pivotal.app`) with the
    /// default retry policy and a 20 s request time-out (5 s to connect).
    ///
    /// `base_url` must be `https://`, or `http://` to a loopback host
    /// (`localhost`, `127.0.0.0/8`, `[::1]`); anything else is a
    /// [`ApiError::Config`].
    pub fn new(base_url: &str, key: ApiKey) -> Result<Client> {
        let base = parse_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .user_agent(USER_AGENT)
            .default_headers(accept_json())
            .connect_timeout(CONNECT_TIMEOUT)
            // The API never redirects; following one could carry the key
            // somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            // Retries belong to `RetryPolicy` alone.
            .retry(reqwest::retry::never())
            .build()
            .map_err(|_| ApiError::config("the HTTP client could not be set up"))?;
        Ok(Client {
            http,
            base,
            key: Arc::new(key),
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Replaces the time-out of each attempt (connecting to the last byte of
    /// the response).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// `GET /v1/users/me`: the user who owns the API key.
    pub async fn me(&self) -> Result<User> {
        let url = self.endpoint(&["users", "me"])?;
        self.send(Call::new(Method::GET, url)).await
    }

    /// `GET /v1/users`: the team, for the owner picker.
    pub async fn users(&self) -> Result<Vec<User>> {
        let url = self.endpoint(&["users"])?;
        let list: List<User> = self.send(Call::new(Method::GET, url)).await?;
        Ok(list.data)
    }

    /// `GET /v1/customers`: one page of customers, ascending by
    /// (`updated_at`, `id`). Records that cannot be read are left out (see
    /// [`Client::list_customer_page`] for how many).
    pub async fn list_customers(&self, params: &ListParams) -> Result<Page<Customer>> {
        let page = self.list_customer_page(params).await?;
        Ok(Page {
            data: page.customers,
            next_cursor: page.next_cursor,
        })
    }

    /// `GET /v1/customers`: one page, with what else the client learnt: how
    /// many records it could not read, and the server's clock. Retried as
    /// every GET is retried, but read leniently (see
    /// [`CustomerPage::skipped`]).
    pub async fn list_customer_page(&self, params: &ListParams) -> Result<CustomerPage> {
        let url = self.customers_url(params)?;
        let call = Call::new(Method::GET, url);
        self.retry
            .run(|| async {
                let (status, headers, body) = self.exchange(&call).await?;
                let mut page = read_customer_page(status, &headers, &body)?;
                page.server_time = server_time(&headers);
                Ok(page)
            })
            .await
    }

    /// Every page of `GET /v1/customers` from `params` on, in order,
    /// following `next_cursor` to the end: the one cursor loop, for the sync
    /// engine and the commands alike.
    pub fn pages(&self, params: ListParams) -> Pages<'_> {
        Pages {
            client: self,
            cursors: params.cursor.iter().cloned().collect(),
            params: Some(params),
            records: HashSet::new(),
            skipped: 0,
            server_time: None,
            stopped: None,
        }
    }

    /// `GET /v1/customers/{id}`: one customer, archived or not.
    pub async fn get_customer(&self, id: &str) -> Result<Customer> {
        let url = self.customer_url(id, None)?;
        self.send(Call::new(Method::GET, url)).await
    }

    /// `POST /v1/customers`: creates a customer.
    ///
    /// `key` is required so that a repeated attempt can never create a
    /// duplicate: keep one key per intended customer and pass the same one
    /// again if this call fails and the user retries later.
    pub async fn create_customer(
        &self,
        customer: &NewCustomer,
        key: &IdempotencyKey,
    ) -> Result<Customer> {
        let url = self.endpoint(&["customers"])?;
        let call = Call::new(Method::POST, url)
            .json(customer)?
            .idempotency_key(key);
        self.send(call).await
    }

    /// `PATCH /v1/customers/{id}`: changes only the fields set in `patch`.
    pub async fn update_customer(&self, id: &str, patch: &CustomerPatch) -> Result<Customer> {
        let url = self.customer_url(id, None)?;
        self.send(Call::new(Method::PATCH, url).json(patch)?).await
    }

    /// `POST /v1/customers/{id}/archive`: hides a customer from lists; its
    /// history is kept. Archiving an archived customer changes nothing.
    pub async fn archive_customer(&self, id: &str) -> Result<Customer> {
        let url = self.customer_url(id, Some("archive"))?;
        self.send(Call::new(Method::POST, url)).await
    }

    /// `POST /v1/customers/{id}/restore`: undoes an archive.
    pub async fn restore_customer(&self, id: &str) -> Result<Customer> {
        let url = self.customer_url(id, Some("restore"))?;
        self.send(Call::new(Method::POST, url)).await
    }

    /// `GET /v1/customers/{id}/history`: the customer's events, newest first.
    pub async fn history(&self, id: &str) -> Result<Vec<HistoryEvent>> {
        let url = self.customer_url(id, Some("history"))?;
        let list: List<HistoryEvent> = self.send(Call::new(Method::GET, url)).await?;
        Ok(list.data)
    }

    /// Sends `call` under the retry policy. Every endpoint comes through here
    /// (the listing through [`Client::list_customer_page`], which reads its
    /// page leniently) and is retried, because every one is safe to repeat:
    /// - GETs only read;
    /// - a create carries its `Idempotency-Key`, fixed inside the `Call`
    ///   built once before the first attempt, so every attempt sends the same
    ///   key and body and the server answers a repeat with the first customer
    ///   instead of making another;
    /// - a PATCH sets fields to given values, and archive/restore set a flag
    ///   (the contract makes archiving an archived customer a no-op), so
    ///   applying one twice leaves the same customer as applying it once.
    async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        self.retry.run(|| self.attempt(&call)).await
    }

    /// One attempt: send, read the whole body, map it.
    async fn attempt<T: DeserializeOwned>(&self, call: &Call<'_>) -> Result<T> {
        let (status, headers, body) = self.exchange(call).await?;
        map_response(status, &headers, &body)
    }

    /// Sends `call` once and reads the answer, its body at most
    /// [`MAX_BODY_BYTES`] long.
    async fn exchange(&self, call: &Call<'_>) -> Result<(StatusCode, HeaderMap, Vec<u8>)> {
        let mut response = self
            .request(call)
            .send()
            .await
            .map_err(ApiError::from_transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = read_body(&mut response, MAX_BODY_BYTES).await?;
        Ok((status, headers, body))
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(self.key.expose())
            .timeout(self.timeout);
        if let Some(body) = &call.body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(key) = call.idempotency_key {
            request = request.header(IDEMPOTENCY_KEY_HEADER, key.to_string());
        }
        request
    }

    /// The base URL followed by `/v1/` and `segments`, each percent-encoded
    /// as exactly one path segment.
    fn endpoint(&self, segments: &[&str]) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ApiError::config("the base URL cannot take a path"))?
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    /// `/v1/customers/{id}`, followed by `/{action}` when given.
    fn customer_url(&self, id: &str, action: Option<&str>) -> Result<Url> {
        // The URL standard drops "." and ".." segments, so such an id would
        // silently address another endpoint.
        if matches!(id, "" | "." | "..") {
            return Err(ApiError::config(
                "a customer id must not be empty, \".\" or \"..\"",
            ));
        }
        let segments: Vec<&str> = ["customers", id].into_iter().chain(action).collect();
        self.endpoint(&segments)
    }

    fn customers_url(&self, params: &ListParams) -> Result<Url> {
        let mut url = self.endpoint(&["customers"])?;
        let pairs = params.query_pairs()?;
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(url)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base.as_str())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ListParams {
    /// The query parameters that are set, in a stable order.
    fn query_pairs(&self) -> Result<Vec<(&'static str, String)>> {
        let mut pairs = Vec::new();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if let Some(since) = self.updated_since {
            pairs.push(("updated_since", rfc3339_utc(since)?));
        }
        if self.include_archived {
            pairs.push(("include_archived", "true".to_owned()));
        }
        Ok(pairs)
    }
}

/// One request, built once and replayed unchanged on every attempt.
struct Call<'a> {
    method: Method,
    url: Url,
    /// The JSON body, encoded once.
    body: Option<Vec<u8>>,
    idempotency_key: Option<&'a IdempotencyKey>,
}

impl<'a> Call<'a> {
    fn new(method: Method, url: Url) -> Self {
        Call {
            method,
            url,
            body: None,
            idempotency_key: None,
        }
    }

    fn json(mut self, body: &impl Serialize) -> Result<Self> {
        let encoded = serde_json::to_vec(body)
            .map_err(|_| ApiError::config("the request body could not be encoded as JSON"))?;
        self.body = Some(encoded);
        Ok(self)
    }

    fn idempotency_key(mut self, key: &'a IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
}

/// Parses and vets a base URL: https anywhere, plain http only to loopback,
/// no credentials, query or fragment.
fn parse_base_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|err| ApiError::config(format!("the base URL is not valid: {err}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::config(
            "the base URL must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::config(
            "the base URL must not have a query or fragment",
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ApiError::config(format!(
            "refusing to send the API key over plain http to {}; use https",
            sanitize(url.host_str().unwrap_or_default())
        ))),
        other => Err(ApiError::config(format!(
            "unsupported URL scheme \"{}\"; use https",
            sanitize(other)
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.to_canonical().is_loopback(),
        None => false,
    }
}

fn accept_json() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    headers
}

/// RFC 3339 in UTC, with `Z`.
fn rfc3339_utc(instant: OffsetDateTime) -> Result<String> {
    instant
        .to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|_| ApiError::config("updated_since is outside the years 0000-9999"))
}

/// Interprets a response, the one place this happens: `2xx` decodes into
/// `T`; `429` is [`ApiError::RateLimited`]; any other status is
/// [`ApiError::Api`], with the contract's error body when there is one.
fn map_response<T: DeserializeOwned>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T> {
    if status.is_success() {
        return serde_json::from_slice(body).map_err(|err| ApiError::decode(&err.to_string()));
    }
    Err(error_response(status, headers, body))
}

/// The error a non-`2xx` response stands for.
fn error_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ApiError {
    let details = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|envelope| envelope.error);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let message = details
            .as_ref()
            .map_or("too many requests", |d| d.message.as_str());
        return ApiError::rate_limited(retry_after(headers), message);
    }
    match details {
        Some(d) => ApiError::api(status.as_u16(), &d.kind, &d.message, d.param.as_deref()),
        None => ApiError::api(
            status.as_u16(),
            fallback_kind(status),
            &fallback_message(status),
            None,
        ),
    }
}

/// `Retry-After` in whole seconds, or one second when missing or unreadable.
fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse().ok())
        .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs)
}

fn fallback_kind(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "server_error"
    } else {
        "http_error"
    }
}

fn fallback_message(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// Reads a response body, refusing one longer than `limit` bytes: by its
/// `Content-Length` before reading, and while reading when it has none (or
/// lies), so a huge answer costs at most `limit` bytes of memory.
async fn read_body(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>> {
    let too_large = || {
        ApiError::decode(&format!(
            "the response is larger than {} MiB",
            limit / (1024 * 1024)
        ))
    };
    let announced = response.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(ApiError::from_transport)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The server's clock from a `Date` header (`Tue, 01 Dec 2026 10:50:52
/// GMT`), if there is a readable one.
fn server_time(headers: &HeaderMap) -> Option<OffsetDateTime> {
    let text = headers.get(header::DATE)?.to_str().ok()?;
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// A customer page, leniently: a record that does not read as a customer
/// is skipped (and logged with its id, if it has a readable one) instead of
/// failing the page. The page itself must still have the contract's shape.
fn read_customer_page(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CustomerPage> {
    if !status.is_success() {
        return Err(error_response(status, headers, body));
    }
    // The common case, a page that reads whole, takes the fast path.
    if let Ok(page) = serde_json::from_slice::<Page<Customer>>(body) {
        return Ok(CustomerPage {
            customers: page.data,
            skipped: 0,
            next_cursor: page.next_cursor,
            server_time: None,
            unreadable: Vec::new(),
        });
    }
    let raw: Page<serde_json::Value> =
        serde_json::from_slice(body).map_err(|err| ApiError::decode(&err.to_string()))?;
    let mut page = CustomerPage {
        customers: Vec::with_capacity(raw.data.len()),
        skipped: 0,
        next_cursor: raw.next_cursor,
        server_time: None,
        unreadable: Vec::new(),
    };
    // Named in the log one by one, up to a point: a page of a thousand
    // broken records must not write a thousand lines every minute.
    const NAMED_PER_PAGE: usize = 10;
    for record in raw.data {
        let id = record
            .get("id")
            .and_then(serde_json::Value::as_str)
            .map(|id| sanitize(id).chars().take(80).collect::<String>());
        match Customer::deserialize(&record) {
            Ok(customer) => page.customers.push(customer),
            Err(err) => {
                let text = record.to_string();
                if page.skipped < NAMED_PER_PAGE {
                    let reason: String = err.to_string().chars().take(200).collect();
                    tracing::warn!(
                        id = id.as_deref().unwrap_or("(none)"),
                        reason = %sanitize(&reason),
                        "skipped a customer record that could not be read"
                    );
                }
                let mut hasher = DefaultHasher::new();
                text.hash(&mut hasher);
                page.unreadable.push(hasher.finish());
                page.skipped += 1;
            }
        }
    }
    if page.skipped > NAMED_PER_PAGE {
        tracing::warn!(
            more = page.skipped - NAMED_PER_PAGE,
            "skipped more customer records on the same page that could not be read"
        );
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use time::macros::datetime;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    const SECRET: &str = "pk_live_s3cr3tvalue";

    const CUSTOMER_JSON: &str = r#"{"id":"cus_1","display_id":1,"name":"Acme",
        "domain":"acme.com","owner_id":null,"plan":null,"source":"api",
        "archived":false,"created_at":"2026-11-26T10:00:00Z",
        "updated_at":"2026-11-26T10:00:00Z"}"#;

    fn key() -> ApiKey {
        ApiKey::new(SECRET.to_owned()).expect("valid key")
    }

    fn client(base: &str) -> Client {
        Client::new(base, key()).expect("valid base URL")
    }

    fn fast_retry(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_millis(5),
        }
    }

    fn map(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> ApiError {
        let status = StatusCode::from_u16(status).expect("valid status");
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map_response::<serde_json::Value>(status, &map, body.as_bytes()).expect_err("an error")
    }

    #[test]
    fn base_urls_need_https_unless_loopback() {
        let accepted = [
            "https://api.pivotal.app",
            "https://api.pivotal.app/",
            "http://127.0.0.1:7420/",
            "http://127.8.9.10",
            "http://localhost:7420",
            "http://LOCALHOST",
            "http://[::1]:7420",
        ];
        for base in accepted {
            assert!(parse_base_url(base).is_ok(), "{base}");
        }
        let refused = [
            "http://example.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
            "ftp://api.pivotal.app",
            "file:///etc/passwd",
            "api.pivotal.app",
            "https://user:pass@api.pivotal.app",
            "https://api.pivotal.app/?x=1",
            "",
        ];
        for base in refused {
            let err = parse_base_url(base).expect_err(base);
            assert!(matches!(err, ApiError::Config { .. }), "{base}: {err:?}");
        }
        assert_eq!(
            parse_base_url("http://example.com")
                .expect_err("refused")
                .to_string(),
            "invalid client configuration: refusing to send the API key over plain \
             http to example.com; use https"
        );
    }

    #[test]
    fn debug_and_config_errors_never_show_the_key() {
        let shown = format!("{:?}", client("https://api.pivotal.app"));
        assert!(shown.contains("https://api.pivotal.app/"), "{shown}");
        assert!(shown.contains("pk_live_…****"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");

        let err = Client::new("http://example.com", key()).expect_err("refused");
        assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    }

    #[test]
    fn ids_are_encoded_as_one_path_segment() {
        let client = client("http://127.0.0.1:7420/");
        let url = client
            .customer_url("cus 1/../x?y#z%", Some("archive"))
            .expect("url");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:7420/v1/customers/cus%201%2F..%2Fx%3Fy%23z%25/archive"
        );
        for bad in ["", ".", ".."] {
            let err = client.customer_url(bad, None).expect_err(bad);
            assert!(matches!(err, ApiError::Config { .. }));
        }
    }

    #[test]
    fn base_path_is_kept() {
        let client = client("https://example.com/pivotal/");
        let url = client.endpoint(&["users", "me"]).expect("url");
        assert_eq!(url.as_str(), "https://example.com/pivotal/v1/users/me");
    }

    #[test]
    fn list_sends_only_set_params() {
        let client = client("https://api.pivotal.app");
        let bare = client.customers_url(&ListParams::default()).expect("url");
        assert_eq!(bare.as_str(), "https://api.pivotal.app/v1/customers");

        let params = ListParams {
            limit: Some(50),
            cursor: Some("a+b/c=".into()),
            updated_since: Some(datetime!(2026-11-26 12:00:00 +02:00)),
            include_archived: true,
        };
        let url = client.customers_url(&params).expect("url");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let expected = [
            ("limit", "50"),
            ("cursor", "a+b/c="),
            ("updated_since", "2026-11-26T10:00:00Z"),
            ("include_archived", "true"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(pairs, expected);
    }

    #[test]
    fn validation_error_keeps_type_message_and_param() {
        let body =
            r#"{"error":{"type":"validation_failed","message":"unknown user","param":"owner_id"}}"#;
        let err = map(422, &[], body);
        let ApiError::Api {
            status,
            kind,
            message,
            param,
        } = &err
        else {
            panic!("not an API error: {err:?}");
        };
        assert_eq!(
            (*status, kind.as_str(), message.as_str(), param.as_deref()),
            (422, "validation_failed", "unknown user", Some("owner_id"))
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn server_error_without_json_gets_a_synthesised_kind() {
        let err = map(502, &[], "<html>Bad gateway</html>");
        assert_eq!(err.status(), Some(502));
        assert_eq!(err.label(), "server_error");
        assert!(err.to_string().contains("HTTP 502 Bad Gateway"), "{err}");
        assert!(err.is_retryable());

        assert_eq!(map(418, &[], "").label(), "http_error");
    }

    #[test]
    fn rate_limit_reads_retry_after_or_assumes_one_second() {
        let body = r#"{"error":{"type":"rate_limited","message":"slow down","param":null}}"#;
        let err = map(429, &[("retry-after", "7")], body);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        assert!(err.to_string().contains("slow down"));

        for headers in [&[][..], &[("retry-after", "soon")][..]] {
            let err = map(429, headers, "");
            assert_eq!(err.retry_after(), Some(DEFAULT_RETRY_AFTER));
        }
    }

    #[test]
    fn success_with_the_wrong_shape_is_a_short_decode_error() {
        let status = StatusCode::OK;
        let long_string = format!("\"{}\"", "x".repeat(10_000));
        let err = map_response::<Customer>(status, &HeaderMap::new(), long_string.as_bytes())
            .expect_err("a string is not a customer");
        let ApiError::Decode { reason } = &err else {
            panic!("not a decode error: {err:?}");
        };
        assert!(reason.chars().count() <= 200, "{reason}");
        assert!(!err.is_retryable());
    }

    /// Answers each of `responses` on its own connection, then returns the
    /// raw requests it read.
    async fn serve(responses: Vec<String>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let mut requests = Vec::new();
            for response in responses {
                let (mut socket, _) = listener.accept().await.expect("accept");
                requests.push(read_request(&mut socket).await);
                socket.write_all(response.as_bytes()).await.expect("write");
                socket.shutdown().await.expect("shutdown");
            }
            requests
        });
        (base, server)
    }

    /// Reads one request: the head, then `content-length` bytes of body.
    async fn read_request(socket: &mut TcpStream) -> String {
        let mut data = Vec::new();
        let mut chunk = [0; 4096];
        loop {
            let read = socket.read(&mut chunk).await.expect("read");
            data.extend_from_slice(&chunk[..read]);
            let text = String::from_utf8_lossy(&data).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|line| {
                        line.to_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .map_or(0, |n| n.parse().expect("length"));
                if body.len() >= length {
                    return text;
                }
            }
            assert!(read > 0, "connection closed mid-request");
        }
    }

    fn response(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn customer_json(id: &str, updated_at: &str) -> String {
        CUSTOMER_JSON.replace("cus_1", id).replace(
            "\"updated_at\":\"2026-11-26T10:00:00Z\"",
            &format!("\"updated_at\":\"{updated_at}\""),
        )
    }

    fn page_json(records: &[String], cursor: Option<&str>) -> String {
        let cursor = cursor.map_or("null".to_owned(), |c| format!("\"{c}\""));
        format!(
            "{{\"data\":[{}],\"next_cursor\":{cursor}}}",
            records.join(",")
        )
    }

    #[test]
    fn an_unreadable_record_is_skipped_and_counted_and_the_rest_of_the_page_kept() {
        let nameless =
            customer_json("cus_2", "2026-11-26T10:00:01Z").replace("\"name\":\"Acme\",", "");
        let bad_date = customer_json("cus_3", "yesterday");
        let body = page_json(
            &[
                customer_json("cus_1", "2026-11-26T10:00:00Z"),
                nameless,
                bad_date,
                "42".to_owned(),
                customer_json("cus_4", "2026-11-26T10:00:02Z"),
            ],
            Some("next"),
        );
        let page = read_customer_page(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
            .expect("the page reads");
        let ids: Vec<&str> = page.customers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["cus_1", "cus_4"]);
        assert_eq!(page.skipped, 3);
        assert_eq!(page.next_cursor.as_deref(), Some("next"));
    }

    #[test]
    fn a_page_without_the_contracts_shape_is_still_a_decode_error() {
        for body in [r#"{"data":{}}"#, r#"[1,2]"#, "not json"] {
            let err = read_customer_page(StatusCode::OK, &HeaderMap::new(), body.as_bytes())
                .expect_err(body);
            assert!(matches!(err, ApiError::Decode { .. }), "{body}: {err:?}");
        }
    }

    #[test]
    fn the_servers_clock_is_read_from_its_date_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(server_time(&headers), None);
        headers.insert(
            header::DATE,
            HeaderValue::from_static("Tue, 01 Dec 2026 10:50:52 GMT"),
        );
        assert_eq!(
            server_time(&headers),
            Some(datetime!(2026-12-01 10:50:52 UTC))
        );
        headers.insert(header::DATE, HeaderValue::from_static("soon"));
        assert_eq!(server_time(&headers), None);
    }

    #[tokio::test]
    async fn a_cursor_the_server_repeats_ends_the_listing_with_an_error() {
        let (base, server) = serve(vec![
            response(
                "200 OK",
                &page_json(&[customer_json("cus_1", "2026-11-26T10:00:00Z")], Some("a")),
            ),
            response(
                "200 OK",
                &page_json(&[customer_json("cus_2", "2026-11-26T10:00:01Z")], Some("b")),
            ),
            response(
                "200 OK",
                &page_json(&[customer_json("cus_3", "2026-11-26T10:00:02Z")], Some("a")),
            ),
        ])
        .await;
        let client = client(&base);
        let mut pages = client.pages(ListParams::default());
        for _ in 0..2 {
            pages.next().await.expect("a page").expect("more");
        }
        let err = pages.next().await.expect_err("a repeated cursor");
        assert!(err.to_string().contains("repeated a page cursor"), "{err}");
        assert!(!err.is_retryable());
        let again = pages.next().await.expect_err("still stopped");
        assert_eq!(again.to_string(), err.to_string());
        assert_eq!(server.await.expect("server").len(), 3);
    }

    #[tokio::test]
    async fn a_page_with_nothing_new_but_a_fresh_cursor_ends_the_listing() {
        let same = page_json(&[customer_json("cus_1", "2026-11-26T10:00:00Z")], Some("a"));
        let again = page_json(&[customer_json("cus_1", "2026-11-26T10:00:00Z")], Some("b"));
        let (base, _server) =
            serve(vec![response("200 OK", &same), response("200 OK", &again)]).await;
        let client = client(&base);
        let mut pages = client.pages(ListParams::default());
        pages.next().await.expect("a page").expect("more");
        let err = pages.next().await.expect_err("nothing new");
        assert!(err.to_string().contains("nothing new"), "{err}");
    }

    #[tokio::test]
    async fn a_body_announced_larger_than_the_cap_is_refused_before_reading_it() {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n[",
            MAX_BODY_BYTES + 1
        );
        let (base, _server) = serve(vec![head]).await;
        let err = client(&base)
            .with_retry(RetryPolicy::none())
            .users()
            .await
            .expect_err("too large");
        assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    }

    #[tokio::test]
    async fn non_json_success_is_a_decode_error() {
        let (base, server) = serve(vec![response("200 OK", "hello, not json")]).await;
        let err = client(&base).me().await.expect_err("not JSON");
        assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
        assert_eq!(
            server.await.expect("server").len(),
            1,
            "decode errors are final"
        );
    }

    #[tokio::test]
    async fn create_sends_the_headers_and_reuses_its_key_on_retry() {
        let failure = r#"{"error":{"type":"server_error","message":"boom","param":null}}"#;
        let (base, server) = serve(vec![
            response("500 Internal Server Error", failure),
            response("201 Created", CUSTOMER_JSON),
        ])
        .await;
        let key = IdempotencyKey::new();
        let body = NewCustomer {
            name: "Acme".into(),
            ..NewCustomer::default()
        };
        let created = client(&base)
            .with_retry(fast_retry(3))
            .create_customer(&body, &key)
            .await
            .expect("created on the second attempt");
        assert_eq!(created.id, "cus_1");

        let requests = server.await.expect("server");
        assert_eq!(requests.len(), 2);
        for request in &requests {
            let lower = request.to_lowercase();
            assert!(
                request.starts_with("POST /v1/customers HTTP/1.1\r\n"),
                "{request}"
            );
            assert!(lower.contains(&format!("authorization: bearer {SECRET}\r\n")));
            assert!(lower.contains(&format!("idempotency-key: {key}\r\n")));
            assert!(lower.contains(&format!("user-agent: {USER_AGENT}\r\n")));
            assert!(lower.contains("accept: application/json\r\n"));
            assert!(lower.contains("content-type: application/json\r\n"));
            assert!(request.ends_with(r#"{"name":"Acme"}"#), "{request}");
        }
    }

    #[tokio::test]
    async fn dropped_connections_are_retried_then_reported_as_network_errors() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let server = tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.expect("accept");
                counter.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });

        let err = client(&base)
            .with_retry(fast_retry(3))
            .get_customer("cus_1")
            .await
            .expect_err("the server hangs up");
        server.abort();

        assert!(matches!(err, ApiError::Network { .. }), "{err:?}");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn https_to_a_plain_http_server_is_a_tls_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("https://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let plain = response("400 Bad Request", "{}");
            socket.write_all(plain.as_bytes()).await.expect("write");
            socket.read_to_end(&mut Vec::new()).await.ok();
        });
        let err = client(&base)
            .with_retry(RetryPolicy::none())
            .me()
            .await
            .expect_err("not TLS");
        server.abort();
        let ApiError::Network { reason } = &err else {
            panic!("not a network error: {err:?}");
        };
        assert_eq!(reason, "TLS handshake failed");
    }

    #[tokio::test]
    async fn refused_connection_says_so() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        drop(listener);
        let err = client(&base)
            .with_retry(RetryPolicy::none())
            .users()
            .await
            .expect_err("nobody listens");
        let ApiError::Network { reason } = &err else {
            panic!("not a network error: {err:?}");
        };
        assert_eq!(reason, "connection refused");
    }
}
