//! Federated averaging under encryption: 5 clients (t = 3) train a logistic
//! regression on disjoint shards of the breast-cancer training split. Every
//! round each client trains locally from the global model, encrypts its
//! model under the collective threshold CKKS key, the server sums the
//! ciphertexts, a committee of 3 clients decrypts only the sum, and the
//! average becomes the next global model. Client 4 drops out of round 3; in
//! round 5 a committee member drops out during decryption and the server
//! retries with another committee. The same rounds run in plaintext for
//! comparison, then with the threshold-Paillier variant, then with
//! distributed differential privacy.
//!
//! `cargo run --release --example federated_averaging`

use std::time::Instant;

use ml_he::aggregation::paillier_variant::{self as pv, PaillierServer, PaillierSession};
use ml_he::aggregation::{
    combine, deal_all, AggregationConfig, AggregationParams, Client, Server, SessionKey,
};
use ml_he::data::{breast_cancer_split_with_scaler, Dataset};
use ml_he::dp::{Adjacency, DistributedGaussian};
use ml_he::model::LogisticRegression;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const N: usize = 5;
const T: usize = 3;
const ROUNDS: u64 = 8;
const LOCAL_EPOCHS: usize = 5;
const LR: f64 = 0.5;
const L2: f64 = 1e-3;

fn local_model(global: &LogisticRegression, shard: &Dataset) -> ml_he::Result<LogisticRegression> {
    let mut m = global.clone();
    for _ in 0..LOCAL_EPOCHS {
        m.train_epoch(shard, LR, L2)?;
    }
    Ok(m)
}

fn average(vs: &[Vec<f64>]) -> Vec<f64> {
    let k = vs.len() as f64;
    (0..vs[0].len())
        .map(|j| vs.iter().map(|v| v[j]).sum::<f64>() / k)
        .collect()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn dropped_in(round: u64) -> Option<usize> {
    (round == 3).then_some(3) // client 4 (index 3)
}

fn main() -> ml_he::Result<()> {
    let mut rng = ChaCha20Rng::from_entropy();
    let (split, _) = breast_cancer_split_with_scaler(0)?;
    let shards = split.train.shards(N)?;
    let d = split.train.n_features();
    println!(
        "breast cancer: {} train samples in {N} shards of {:?}, {} test samples, {} parameters",
        split.train.len(),
        shards.iter().map(|s| s.len()).collect::<Vec<_>>(),
        split.test.len(),
        d + 1
    );

    // ---------------------------------------------------------------- setup
    let t0 = Instant::now();
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rng, &mut seed); // public session seed
    let params = AggregationParams::new(AggregationConfig::new(N, T).max_abs(64.0), seed)?;
    let mut clients: Vec<Client> = (1..=N as u32)
        .map(|i| Client::new(&params, i, &mut rng))
        .collect::<ml_he::Result<_>>()?;
    let shares = clients
        .iter_mut()
        .map(|c| c.public_key_share(&mut rng))
        .collect::<ml_he::Result<Vec<_>>>()?;
    let key = SessionKey::from_shares(&params, shares)?;
    let key = deal_all(&mut clients, &key, &mut rng)?;
    println!(
        "setup (collective CKKS key N = {}, Shamir dealing {T}-of-{N}): {:.0} ms; scale 2^{:.0}, λ = {}, stated precision of the sum {:.1e}",
        params.ckks().degree(),
        t0.elapsed().as_secs_f64() * 1e3,
        params.scale().log2(),
        params.config().lambda,
        params.sum_precision()
    );

    // ------------------------------------------------- threshold CKKS rounds
    println!("\n== threshold CKKS federated averaging vs plaintext federated averaging ==");
    println!("round  contributors     committee   acc(enc)  acc(plain)  max|w_enc-w_plain|  enc/client  bytes/client  share/party  combine");
    let mut g_enc = LogisticRegression::zeros(d);
    let mut g_plain = LogisticRegression::zeros(d);
    for round in 0..ROUNDS {
        let contributors: Vec<usize> = (0..N).filter(|&i| Some(i) != dropped_in(round)).collect();
        let mut server = Server::new(&key, round, d + 1)?;
        let mut enc_ms = 0.0;
        let mut bytes = 0usize;
        let mut plain_models = Vec::new();
        for &i in &contributors {
            let local = local_model(&g_enc, &shards[i])?;
            let t = Instant::now();
            let msg = clients[i].encrypt_update(round, &local.to_vec(), &mut rng)?;
            enc_ms += t.elapsed().as_secs_f64() * 1e3;
            bytes = msg.len();
            server.add(&msg)?;
            plain_models.push(local_model(&g_plain, &shards[i])?.to_vec());
        }
        // committee; in round 5 member 2 vanishes after the request
        let mut committee: Vec<u32> = vec![1, 2, 3];
        let mut request = server.decryption_request(&committee)?;
        if round == 5 {
            let _ = clients[0].decryption_share(&request, &mut rng)?; // answered, then 2 dropped
            println!("  round {round}: committee member 2 dropped out; retrying with 1, 3, 5");
            committee = vec![1, 3, 5];
            request = server.decryption_request(&committee)?;
        }
        let mut share_ms = 0.0;
        let mut dshares = Vec::new();
        for &c in &committee {
            let t = Instant::now();
            dshares.push(clients[c as usize - 1].decryption_share(&request, &mut rng)?);
            share_ms += t.elapsed().as_secs_f64() * 1e3;
        }
        let t = Instant::now();
        let res = combine(&key, &request, &dshares)?;
        let combine_ms = t.elapsed().as_secs_f64() * 1e3;
        g_enc = LogisticRegression::from_vec(&res.average)?;
        g_plain = LogisticRegression::from_vec(&average(&plain_models))?;
        println!(
            "{round:>5}  {:<15}  {:<10}  {:>8.4}  {:>10.4}  {:>18.2e}  {:>8.2} ms  {:>12}  {:>8.2} ms  {:>5.2} ms",
            format!("{:?}", contributors.iter().map(|i| i + 1).collect::<Vec<_>>()),
            format!("{committee:?}"),
            g_enc.accuracy(&split.test)?,
            g_plain.accuracy(&split.test)?,
            max_diff(&g_enc.to_vec(), &g_plain.to_vec()),
            enc_ms / contributors.len() as f64,
            bytes,
            share_ms / committee.len() as f64,
            combine_ms
        );
    }

    // ------------------------------------------------ threshold Paillier
    println!("\n== threshold Paillier variant (packing, short-exponent encryption, 2048-bit n from published test primes: demo only) ==");
    let (p, q) =
        threshold::paillier::test_primes::primes(threshold::paillier::test_primes::SAFE1024);
    let t = Instant::now();
    let (tp, key_shares) = threshold::paillier::Dealer::deal_with_primes(p, q, T, N, &mut rng)?;
    let session = PaillierSession::new(tp, N, 64.0, 32)?;
    let mut holders = key_shares
        .into_iter()
        .map(|k| pv::KeyHolder::new(&session, k, 2))
        .collect::<ml_he::Result<Vec<_>>>()?;
    let encryptors = (0..N)
        .map(|_| session.fast_encryptor(&mut rng))
        .collect::<ml_he::Result<Vec<_>>>()?;
    println!(
        "dealing {:.0} ms; {} values per ciphertext, precision {:.1e}",
        t.elapsed().as_secs_f64() * 1e3,
        session.values_per_ciphertext(),
        session.precision()
    );
    println!("round  acc(paillier)  acc(plain)  max|w_pai-w_plain|  enc/client  bytes/client  partial/party  combine");
    let mut g_pai = LogisticRegression::zeros(d);
    let mut g_plain = LogisticRegression::zeros(d);
    for round in 0..ROUNDS {
        let contributors: Vec<usize> = (0..N).filter(|&i| Some(i) != dropped_in(round)).collect();
        let mut server = PaillierServer::new(&session, round, d + 1)?;
        let mut enc_ms = 0.0;
        let mut bytes = 0;
        let mut plain_models = Vec::new();
        for &i in &contributors {
            let local = local_model(&g_pai, &shards[i])?;
            let t = Instant::now();
            let msg = session.encrypt_update_fast(
                i as u32 + 1,
                round,
                &local.to_vec(),
                &encryptors[i],
                &mut rng,
            )?;
            enc_ms += t.elapsed().as_secs_f64() * 1e3;
            bytes = msg.len();
            server.add(&msg)?;
            plain_models.push(local_model(&g_plain, &shards[i])?.to_vec());
        }
        let request = server.decryption_request()?;
        let mut share_ms = 0.0;
        let mut partials = Vec::new();
        for holder in holders.iter_mut().skip(round as usize % 3).take(T) {
            let t = Instant::now();
            partials.push(holder.decryption_share(&request, &mut rng)?);
            share_ms += t.elapsed().as_secs_f64() * 1e3;
        }
        let t = Instant::now();
        let res = pv::combine(&session, &request, &partials)?;
        let combine_ms = t.elapsed().as_secs_f64() * 1e3;
        g_pai = LogisticRegression::from_vec(&res.average)?;
        g_plain = LogisticRegression::from_vec(&average(&plain_models))?;
        println!(
            "{round:>5}  {:>13.4}  {:>10.4}  {:>18.2e}  {:>8.2} ms  {:>12}  {:>10.2} ms  {:>5.2} ms",
            g_pai.accuracy(&split.test)?,
            g_plain.accuracy(&split.test)?,
            max_diff(&g_pai.to_vec(), &g_plain.to_vec()),
            enc_ms / contributors.len() as f64,
            bytes,
            share_ms / T as f64,
            combine_ms
        );
    }

    // ------------------------------------------------ distributed DP
    let (clip, eps, delta) = (1.0, 2.0, 1e-5);
    let mech = DistributedGaussian::for_epsilon(clip, eps, delta, N - 1, Adjacency::AddRemove)?;
    println!(
        "\n== threshold CKKS + distributed DP: clipped model deltas (C = {clip}), σ = {:.3} on the sum of ≥ {} deltas (each client adds σ/√{} = {:.3}), (ε, δ) = ({eps}, {delta:e}) per round, ε = {:.1} after {ROUNDS} rounds (zCDP) ==",
        mech.sigma(),
        N - 1,
        N - 1,
        mech.client_sigma(),
        mech.epsilon_after(ROUNDS as usize)
    );
    println!("round  acc(enc+DP)  acc(plain, no DP)  ε(this round, k contributors)");
    let mut g_dp = LogisticRegression::zeros(d);
    let mut g_plain = LogisticRegression::zeros(d);
    for round in 0..ROUNDS {
        let r = ROUNDS + round; // fresh round numbers in the same session
        let contributors: Vec<usize> = (0..N).filter(|&i| Some(i) != dropped_in(round)).collect();
        let mut server = Server::new(&key, r, d + 1)?;
        let mut plain_models = Vec::new();
        let base = g_dp.to_vec();
        for &i in &contributors {
            let local = local_model(&g_dp, &shards[i])?.to_vec();
            let mut delta_i: Vec<f64> = local.iter().zip(&base).map(|(a, b)| a - b).collect();
            mech.privatize(&mut delta_i, &mut rng);
            server.add(&clients[i].encrypt_update(r, &delta_i, &mut rng)?)?;
            plain_models.push(local_model(&g_plain, &shards[i])?.to_vec());
        }
        let committee = [2u32, 4, 5];
        let request = server.decryption_request(&committee)?;
        let dshares = committee
            .iter()
            .map(|&c| clients[c as usize - 1].decryption_share(&request, &mut rng))
            .collect::<ml_he::Result<Vec<_>>>()?;
        let res = combine(&key, &request, &dshares)?;
        let next: Vec<f64> = base.iter().zip(&res.average).map(|(b, a)| b + a).collect();
        g_dp = LogisticRegression::from_vec(&next)?;
        g_plain = LogisticRegression::from_vec(&average(&plain_models))?;
        println!(
            "{round:>5}  {:>11.4}  {:>17.4}  {:>6.3}",
            g_dp.accuracy(&split.test)?,
            g_plain.accuracy(&split.test)?,
            mech.guarantee(contributors.len(), 0)?
        );
    }
    Ok(())
}
