//! The client: holds the secret key, encrypts samples (refusing or clipping out-of-range features) and decrypts responses.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use ckks::SecurityLevel;
use ckks::{BootstrapKeys, Ciphertext, Encoder, GaloisKeys, Parameters, RelinKey, SecretKey};

use super::*;
use crate::error::{Error, Result};

// ---------------------------------------------------------------- client

/// The input and result party: holds the secret key, encrypts samples and
/// decrypts scores.
pub struct Client {
    setup: PublicSetup,
    params: Parameters,
    encoder: Encoder,
    sk: SecretKey,
    rng: ChaCha20Rng,
    policy: InputPolicy,
}

/// What the client does with a feature outside the setup's input bound
/// ([`PublicSetup::max_abs_input`]): the plan check holds only inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputPolicy {
    /// Refuse the sample ([`Error::OutOfRange`], naming the feature).
    #[default]
    Refuse,
    /// Clip the feature to `±max_abs_input` (the model then sees the
    /// clipped sample; a non-finite feature is still refused).
    Clip,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("setup", &self.setup)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for a server's published setup; key material from a
    /// ChaCha20 generator seeded by the OS.
    pub fn new(setup: &PublicSetup) -> Result<Self> {
        Self::with_rng(setup, ChaCha20Rng::from_entropy())
    }

    /// The same with a given generator (reproducible tests).
    pub fn with_rng(setup: &PublicSetup, rng: ChaCha20Rng) -> Result<Self> {
        Self::with_min_security(setup, rng, SecurityLevel::Bits128)
    }

    /// A client that accepts parameters down to the security level `min`
    /// (the client's own floor, whatever the setup says): pass
    /// `SecurityLevel::None` only for tests and examples, e.g. a server
    /// compiled with [`BootstrapRing::TestN4096Insecure`](super::BootstrapRing::TestN4096Insecure).
    ///
    /// # Errors
    /// [`Error::Insecure`] for a setup below `min`; a malformed setup.
    pub fn with_min_security(
        setup: &PublicSetup,
        mut rng: ChaCha20Rng,
        min: SecurityLevel,
    ) -> Result<Self> {
        setup.validate()?;
        let params = setup.parameters_with_min_security(min)?;
        let sk = SecretKey::generate(&params, &mut rng);
        Ok(Self {
            setup: setup.clone(),
            encoder: Encoder::new(&params),
            params,
            sk,
            rng,
            policy: InputPolicy::Refuse,
        })
    }

    /// The CKKS parameters.
    pub fn parameters(&self) -> &Parameters {
        &self.params
    }

    /// The setup this client follows.
    pub fn setup(&self) -> &PublicSetup {
        &self.setup
    }

    /// The public keys the server needs (send once). For a circuit that
    /// bootstraps, the bootstrapping keys (their relinearization key
    /// serves the circuit too): the client derives their rotation steps
    /// from the setup's configuration itself
    /// ([`BootstrapKeys::generate`], no transforms encoded).
    pub fn evaluation_keys(&mut self) -> Result<EvaluationKeys> {
        let bootstrap = match &self.setup.bootstrap {
            Some(b) => Some(BootstrapKeys::generate(
                &self.sk,
                &b.config(),
                &mut self.rng,
            )?),
            None => None,
        };
        let relin = if self.setup.relinearization && bootstrap.is_none() {
            Some(RelinKey::generate(&self.sk, &mut self.rng)?)
        } else {
            None
        };
        let galois = if self.setup.rotations.is_empty() {
            None
        } else {
            Some(GaloisKeys::generate(
                &self.sk,
                &self.setup.rotations,
                &mut self.rng,
            )?)
        };
        Ok(EvaluationKeys {
            relin,
            galois,
            bootstrap,
        })
    }

    /// Chooses what happens to features outside the input bound (default
    /// [`InputPolicy::Refuse`]).
    pub fn set_input_policy(&mut self, policy: InputPolicy) {
        self.policy = policy;
    }

    /// The sample as it will be encrypted: checked, and clipped under
    /// [`InputPolicy::Clip`].
    fn admit(&self, x: &[f64]) -> Result<Vec<f64>> {
        let b = self.setup.max_abs_input;
        match self.policy {
            InputPolicy::Refuse => {
                self.check_sample(x)?;
                Ok(x.to_vec())
            }
            InputPolicy::Clip => {
                let clipped: Vec<f64> = x
                    .iter()
                    .map(|v| if v.is_finite() { v.clamp(-b, b) } else { *v })
                    .collect();
                self.check_sample(&clipped)?;
                Ok(clipped)
            }
        }
    }

    fn check_sample(&self, x: &[f64]) -> Result<()> {
        let d = self.setup.shape.inputs();
        if x.len() != d {
            return Err(Error::Shape(format!(
                "sample has {} features, the model {d}",
                x.len()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::OutOfRange(format!("feature {i} is not finite")));
        }
        if let Some(i) = x.iter().position(|v| v.abs() > self.setup.max_abs_input) {
            return Err(Error::OutOfRange(format!(
                "feature {i} = {} exceeds the setup's input bound ±{} (preprocess the sample as the model expects)",
                x[i], self.setup.max_abs_input
            )));
        }
        Ok(())
    }

    fn encrypt_slots(&mut self, values: &[f64]) -> Result<Ciphertext> {
        let pt = self
            .encoder
            .encode_at(values, self.setup.input_level, self.setup.input_scale)?;
        Ok(self.sk.encrypt(&pt, &mut self.rng)?)
    }

    /// Encrypts one sample (per-sample packing).
    pub fn encrypt(&mut self, x: &[f64]) -> Result<Query> {
        if self.setup.packing != Packing::PerSample {
            return Err(Error::Shape(
                "this setup packs batches: use encrypt_batch".into(),
            ));
        }
        let x = self.admit(x)?;
        let values = self.setup.input_layout.lay_out(&x, self.params.slots());
        Ok(Query {
            samples: 1,
            ciphertexts: vec![self.encrypt_slots(&values)?],
        })
    }

    /// Encrypts several samples. Batch packing: one ciphertext per feature,
    /// up to N/2 samples. Per-sample packing: one ciphertext per sample.
    pub fn encrypt_batch(&mut self, xs: &[Vec<f64>]) -> Result<Query> {
        if xs.is_empty() {
            return Err(Error::Shape("no sample".into()));
        }
        let xs = xs
            .iter()
            .map(|x| self.admit(x))
            .collect::<Result<Vec<_>>>()?;
        match self.setup.packing {
            Packing::PerSample => {
                let mut cts = Vec::with_capacity(xs.len());
                for x in &xs {
                    cts.extend(self.encrypt(x)?.ciphertexts);
                }
                Ok(Query {
                    samples: xs.len(),
                    ciphertexts: cts,
                })
            }
            Packing::Batch => {
                if xs.len() > self.params.slots() {
                    return Err(Error::Shape(format!(
                        "{} samples for {} slots (split the batch)",
                        xs.len(),
                        self.params.slots()
                    )));
                }
                let d = self.setup.shape.inputs();
                // One ChaCha20 stream per ciphertext, seeded from the
                // client's generator: the features encrypt in parallel.
                let seeds: Vec<[u8; 32]> = (0..d)
                    .map(|_| {
                        let mut s = [0u8; 32];
                        self.rng.fill_bytes(&mut s);
                        s
                    })
                    .collect();
                let (encoder, sk, setup, xs) = (&self.encoder, &self.sk, &self.setup, &xs);
                let cts = seeds
                    .into_par_iter()
                    .enumerate()
                    .map(|(f, seed)| {
                        let col: Vec<f64> = xs.iter().map(|x| x[f]).collect();
                        let pt = encoder.encode_at(&col, setup.input_level, setup.input_scale)?;
                        Ok(sk.encrypt(&pt, &mut ChaCha20Rng::from_seed(seed))?)
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Query {
                    samples: xs.len(),
                    ciphertexts: cts,
                })
            }
        }
    }

    /// Decrypts a response: one vector of outputs per sample (LR: the
    /// logit; MLP: the logits).
    pub fn decrypt(&self, resp: &Response) -> Result<Vec<Vec<f64>>> {
        let k = self.setup.shape.outputs();
        let want = match self.setup.packing {
            Packing::PerSample => resp.samples,
            Packing::Batch => k,
        };
        if resp.ciphertexts.len() != want || resp.samples == 0 {
            return Err(Error::Shape(format!(
                "response has {} ciphertexts for {} sample(s), expected {want}",
                resp.ciphertexts.len(),
                resp.samples
            )));
        }
        match self.setup.packing {
            Packing::PerSample => resp
                .ciphertexts
                .iter()
                .map(|ct| {
                    let v = self.encoder.decode(&self.sk.decrypt(ct)?)?;
                    (0..k)
                        .map(|i| {
                            v.get(i * self.setup.output_stride)
                                .copied()
                                .ok_or_else(|| Error::Shape("output slot out of range".into()))
                        })
                        .collect()
                })
                .collect(),
            Packing::Batch => {
                if resp.samples > self.params.slots() {
                    return Err(Error::Shape("more samples than slots".into()));
                }
                let cols = resp
                    .ciphertexts
                    .par_iter()
                    .map(|ct| Ok(self.encoder.decode(&self.sk.decrypt(ct)?)?))
                    .collect::<Result<Vec<Vec<f64>>>>()?;
                Ok((0..resp.samples)
                    .map(|s| cols.iter().map(|c| c[s]).collect())
                    .collect())
            }
        }
    }

    /// Reads a response (checked against the parameters) and decrypts it.
    pub fn decrypt_bytes(&self, bytes: &[u8]) -> Result<Vec<Vec<f64>>> {
        self.decrypt(&Response::from_bytes(&self.params, bytes)?)
    }
}
