//! Private salary sum and average with Paillier.
//!
//! Three roles, kept apart, exchanging only serialized public objects:
//! * the **key owner** (result party) generates the key pair, publishes the
//!   public key, and in the end decrypts only the aggregate;
//! * each **input party** encrypts its own salary under the public key;
//! * the **aggregator** (computing party) adds the ciphertexts it receives;
//!   it holds only the public key, so it cannot decrypt anything.
//!
//! No party sees another party's salary; the key owner learns only the total
//! (and hence the average).
//!
//! Run with `cargo run --release --example paillier_sum`.

use paillier::{Bits, Ciphertext, PublicKey, SecretKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Result party: owns the private key.
struct KeyOwner {
    sk: SecretKey,
}

impl KeyOwner {
    fn new(rng: &mut ChaCha20Rng) -> paillier::Result<Self> {
        let sk = SecretKey::generate(Bits::B2048, rng)?;
        Ok(KeyOwner { sk })
    }

    /// What the key owner publishes.
    fn public_key_bytes(&self) -> Vec<u8> {
        self.sk.public_key().to_bytes()
    }

    /// Decrypts the aggregate (a signed integer number of cents).
    fn open_total(&self, total_bytes: &[u8]) -> paillier::Result<i64> {
        let total = self.sk.public_key().ciphertext_from_bytes(total_bytes)?;
        self.sk.decrypt_i64(&total)
    }
}

/// Input party: knows one salary and the public key.
struct InputParty {
    name: &'static str,
    salary_cents: i64,
}

impl InputParty {
    fn submit(&self, pk_bytes: &[u8], rng: &mut ChaCha20Rng) -> paillier::Result<Vec<u8>> {
        let pk = PublicKey::from_bytes(pk_bytes)?;
        Ok(pk.encrypt_i64(self.salary_cents, rng)?.to_bytes())
    }
}

/// Computing party: public key only.
struct Aggregator {
    pk: PublicKey,
    running: Option<Ciphertext>,
    count: u64,
}

impl Aggregator {
    fn new(pk_bytes: &[u8]) -> paillier::Result<Self> {
        Ok(Aggregator {
            pk: PublicKey::from_bytes(pk_bytes)?,
            running: None,
            count: 0,
        })
    }

    fn receive(&mut self, ct_bytes: &[u8]) -> paillier::Result<()> {
        // Validated on the way in: right key, 0 < c < n^2, gcd(c, n) = 1.
        let ct = self.pk.ciphertext_from_bytes(ct_bytes)?;
        self.running = Some(match self.running.take() {
            None => ct,
            Some(acc) => (&acc + &ct)?,
        });
        self.count += 1;
        Ok(())
    }

    fn total_bytes(&self) -> Option<Vec<u8>> {
        self.running.as_ref().map(Ciphertext::to_bytes)
    }
}

fn main() -> paillier::Result<()> {
    let mut rng = ChaCha20Rng::from_entropy();

    let owner = KeyOwner::new(&mut rng)?;
    let pk_bytes = owner.public_key_bytes();
    println!(
        "key owner   -> everyone   : public key, {} bytes",
        pk_bytes.len()
    );

    let parties = [
        InputParty {
            name: "alice",
            salary_cents: 731_250,
        },
        InputParty {
            name: "bob",
            salary_cents: 612_000,
        },
        InputParty {
            name: "carol",
            salary_cents: 984_575,
        },
        InputParty {
            name: "dave",
            salary_cents: 543_025,
        },
        InputParty {
            name: "erin",
            salary_cents: 800_100,
        },
    ];

    let mut aggregator = Aggregator::new(&pk_bytes)?;
    for party in &parties {
        let ct_bytes = party.submit(&pk_bytes, &mut rng)?;
        println!(
            "{:<11} -> aggregator : encrypted salary, {} bytes",
            party.name,
            ct_bytes.len()
        );
        aggregator.receive(&ct_bytes)?;
    }

    let Some(total_bytes) = aggregator.total_bytes() else {
        println!("no submissions");
        return Ok(());
    };
    println!(
        "aggregator  -> key owner  : encrypted total of {} salaries, {} bytes",
        aggregator.count,
        total_bytes.len()
    );

    let total = owner.open_total(&total_bytes)?;
    let count = aggregator.count as f64;
    println!(
        "key owner decrypts the total only: {:.2}",
        total as f64 / 100.0
    );
    println!("average salary: {:.2}", total as f64 / 100.0 / count);

    // Check against the plaintext computation (only possible in this demo,
    // where all roles live in one process).
    let expect: i64 = parties.iter().map(|p| p.salary_cents).sum();
    assert_eq!(total, expect);
    Ok(())
}
