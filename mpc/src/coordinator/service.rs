//! The gRPC service: admission, per-kind size limits, authentication of every RPC by its client certificate, and the events it hands to the driver.

use super::*;

pub(super) enum Event {
    Connected {
        party: u32,
        conn: u64,
        hello: Hello,
        tx: TaskSender,
    },
    Disconnected {
        party: u32,
        conn: u64,
    },
    Submitted {
        party: u32,
        sub: Submission,
        reply: Reply,
        /// Refused before the step saw it (oversized), and why.
        refused: Option<String>,
    },
}

pub(super) struct Svc {
    pub(super) events: mpsc::Sender<Event>,
    pub(super) parties: u32,
    pub(super) next_conn: AtomicU64,
    pub(super) ca: SessionCa,
    pub(super) limits: Limits,
}

/// HTTP/2 streams per connection (a party needs its task stream and a few
/// submissions).
pub(super) const MAX_STREAMS: u32 = 16;
/// Submissions of one party being received or handled at once.
pub(super) const MAX_IN_FLIGHT: usize = 4;

/// The largest submission of each kind this session can need; anything
/// larger is refused before it reaches the protocol.
pub(super) struct Limits {
    pub(super) update: usize,
    pub(super) share: usize,
    pub(super) deal: usize,
}

impl Limits {
    const SMALL: usize = 64 << 10;

    pub(super) fn new(cfg: &SessionConfig) -> Result<Self> {
        let slack = Self::SMALL;
        let update = match cfg.scheme {
            Scheme::Ckks => cfg.aggregation_params()?.update_bytes(cfg.len),
            // a packed Paillier ciphertext carries ≥ 1 value per 32 bytes
            Scheme::Paillier => cfg.len.saturating_mul(32),
        };
        // A CKKS dealing is N residues per prime of Q ∪ P (8 bytes each),
        // sealed, one per other party; with share proofs, the public
        // commitment: 2t − 1 polynomials over Q.
        let deal = match cfg.scheme {
            Scheme::Ckks => {
                let p = cfg.aggregation_params()?;
                let rp = p.ckks().rlwe();
                let (q, qp) = (rp.ring_q_top().len(), rp.ring_qp_top().len());
                let sealed = cfg.parties.saturating_mul(cfg.degree * qp * 8 + 1024);
                let com = if p.share_proof_params().is_some() {
                    (2 * p.config().threshold).saturating_mul(cfg.degree * q * 8 + 64)
                } else {
                    0
                };
                sealed.saturating_add(com)
            }
            Scheme::Paillier => cfg.parties.saturating_mul(cfg.degree * 3 * 8 + 1024),
        };
        Ok(Self {
            update: update.saturating_add(slack),
            share: update.saturating_mul(4).saturating_add(slack),
            deal: deal.saturating_add(slack),
        })
    }

    pub(super) fn for_kind(&self, kind: Kind) -> usize {
        match kind {
            Kind::Update => self.update,
            Kind::Decrypt => self.share,
            Kind::Deal => self.deal,
            Kind::Session
            | Kind::Approve
            | Kind::Key
            | Kind::Confirm
            | Kind::Dealings
            | Kind::PaillierKey => Self::SMALL,
            Kind::PkShare => 4 << 20,
            _ => crate::proto::MAX_MESSAGE,
        }
    }
}

/// Checks a `Hello`'s end-to-end key announcement: the certificate is the
/// one the TLS connection authenticated, and [`verify_announcement`] (the
/// parties' own check) passes. The parties' checks are what protects them;
/// this one refuses early, with a logged reason.
#[allow(clippy::result_large_err)] // tonic's own error type
pub(super) fn check_hello<T>(
    req: &Request<T>,
    ca: &SessionCa,
    party: u32,
    hello: &Hello,
) -> std::result::Result<(), Status> {
    let tls_cert = req
        .peer_certs()
        .and_then(|c| c.first().map(|c| c.as_ref().to_vec()))
        .unwrap_or_default();
    let r = if hello.cert != tls_cert {
        Err(Error::E2eKey {
            party,
            fault: crate::e2e::KeyFault::Malformed(
                "announced with another certificate than the TLS connection's".into(),
            ),
        })
    } else {
        verify_announcement(
            ca,
            &KeyAnnouncement {
                party,
                e2e_public: hello.e2e_public.clone(),
                cert: hello.cert.clone(),
                signature: hello.e2e_signature.clone(),
                session_signature: Vec::new(),
            },
        )
    };
    r.map_err(|e| {
        warn!(party, reason = %e, "connection refused");
        Status::permission_denied(e.to_string())
    })
}

#[allow(clippy::result_large_err)] // tonic's own error type
pub(super) fn authenticate<T>(req: &Request<T>, parties: u32) -> std::result::Result<u32, Status> {
    let certs = req
        .peer_certs()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    let cert = certs
        .first()
        .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
    certs::party_id(cert, parties).map_err(|e| {
        warn!(reason = %e, "unknown party refused");
        Status::unauthenticated(format!("unknown party: {e}"))
    })
}

#[tonic::async_trait]
impl Coordinator for Svc {
    type SubscribeStream = TaskStream;

    async fn subscribe(
        &self,
        request: Request<Hello>,
    ) -> std::result::Result<Response<TaskStream>, Status> {
        let party = authenticate(&request, self.parties)?;
        check_hello(&request, &self.ca, party, request.get_ref())?;
        let hello = request.into_inner();
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(64);
        let watch = tx.clone();
        self.events
            .send(Event::Connected {
                party,
                conn,
                hello,
                tx,
            })
            .await
            .map_err(|_| Status::unavailable("coordinator is shutting down"))?;
        let events = self.events.clone();
        tokio::spawn(async move {
            watch.closed().await;
            let _ = events.send(Event::Disconnected { party, conn }).await;
        });
        Ok(Response::new(tokio_stream::wrappers::ReceiverStream::new(
            rx,
        )))
    }

    async fn submit(
        &self,
        request: Request<Submission>,
    ) -> std::result::Result<Response<Ack>, Status> {
        let party = authenticate(&request, self.parties)?;
        let sub = request.into_inner();
        let kind = Kind::try_from(sub.kind).unwrap_or(Kind::Unspecified);
        let (size, limit) = (sub.size(), self.limits.for_kind(kind));
        let (sub, refused) = if size > limit {
            warn!(party, ?kind, size, limit, "oversized submission refused");
            // the step learns of it (the party is excluded from it, not
            // waited for); the bytes are dropped here
            let stripped = Submission {
                kind: sub.kind,
                round: sub.round,
                attempt: sub.attempt,
                ..Default::default()
            };
            let reason =
                format!("{kind:?} submission of {size} bytes, at most {limit} in this session");
            (stripped, Some(reason))
        } else {
            (sub, None)
        };
        let (reply, rx) = oneshot::channel();
        self.events
            .send(Event::Submitted {
                party,
                sub,
                reply,
                refused,
            })
            .await
            .map_err(|_| Status::unavailable("coordinator is shutting down"))?;
        match rx.await {
            Ok(Ok(())) => Ok(Response::new(Ack { accepted: true })),
            Ok(Err(reason)) => Err(Status::invalid_argument(reason)),
            Err(_) => Err(Status::unavailable("coordinator is shutting down")),
        }
    }
}
