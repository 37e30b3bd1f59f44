// OpenSSL 3 behind the small interface of channels_crypto.h.
#include "services/notify/channels_crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace todo::notify {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("openssl: ") + what);
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct GroupFree {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

constexpr char kCurve[] = "prime256v1";

PKey key_from_params(OSSL_PARAM_BLD* bld, int selection) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) fail("EVP_PKEY_fromdata_init");
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) <= 0) return nullptr;
  PKey owned(key);
  // fromdata does not check that the point lies on the curve; a public-key check does.
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return owned;
}

std::string sign_digest(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    fail("EVP_DigestSignInit");
  }
  std::size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, bytes(data), data.size()) != 1) fail("sign size");
  std::string sig(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &size, bytes(data),
                     data.size()) != 1) {
    fail("EVP_DigestSign");
  }
  sig.resize(size);
  return sig;
}

std::string jwt_sign(std::string_view alg, std::string_view claims_json, EVP_PKEY* key) {
  std::string input =
      base64url_encode(std::string(R"({"typ":"JWT","alg":")") + std::string(alg) + "\"}") + "." +
      base64url_encode(claims_json);
  std::string sig = sign_digest(key, input);
  if (alg == "ES256") {  // DER ECDSA-Sig-Value -> r‖s, each 32 bytes
    const auto* p = bytes(sig);
    std::unique_ptr<ECDSA_SIG, SigFree> parsed(d2i_ECDSA_SIG(nullptr, &p, long(sig.size())));
    if (!parsed) fail("d2i_ECDSA_SIG");
    std::string raw(64, '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), out, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), out + 32, 32) != 32) {
      fail("BN_bn2binpad");
    }
    sig = raw;
  }
  return input + "." + base64url_encode(sig);
}

}  // namespace

void PKeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = unsigned(std::uint8_t(in[i])) << 16 | unsigned(std::uint8_t(in[i + 1])) << 8 |
                 unsigned(std::uint8_t(in[i + 2]));
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    unsigned v = unsigned(std::uint8_t(in[i])) << 16;
    if (rest == 2) v |= unsigned(std::uint8_t(in[i + 1])) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64url_encode(std::string_view in) {
  std::string out = base64_encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | unsigned(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned size = 0;
  if (!HMAC(EVP_sha256(), key.data(), int(key.size()), bytes(data), data.size(), out.data(),
            &size)) {
    fail("HMAC");
  }
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(count)) != 1) fail("RAND_bytes");
  return out;
}

PKey generate_p256_key() {
  PKey key(EVP_EC_gen(kCurve));
  if (!key) fail("EVP_EC_gen");
  return key;
}

PKey p256_private_key(std::string_view scalar32) {
  if (scalar32.size() != 32) return nullptr;
  std::unique_ptr<EC_GROUP, GroupFree> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  std::unique_ptr<BIGNUM, BnFree> d(BN_bin2bn(bytes(scalar32), 32, nullptr));
  if (!group || !d) fail("EC_GROUP/BN");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) return nullptr;
  std::unique_ptr<EC_POINT, PointFree> pub(EC_POINT_new(group.get()));
  std::array<unsigned char, 65> point{};
  if (!pub || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), nullptr) != point.size()) {
    fail("EC_POINT_mul");
  }
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    fail("OSSL_PARAM_BLD");
  }
  return key_from_params(bld.get(), EVP_PKEY_KEYPAIR);
}

PKey p256_public_key(std::string_view point65) {
  if (point65.size() != 65 || point65[0] != 0x04) return nullptr;
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point65.data(),
                                        point65.size())) {
    fail("OSSL_PARAM_BLD");
  }
  return key_from_params(bld.get(), EVP_PKEY_PUBLIC_KEY);
}

std::string p256_public_raw(EVP_PKEY* key) {
  std::array<unsigned char, 65> point{};
  std::size_t size = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &size) != 1 ||
      size != 65) {
    fail("public key");
  }
  return std::string(reinterpret_cast<const char*>(point.data()), size);
}

std::string p256_private_raw(EVP_PKEY* key) {
  BIGNUM* d = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) fail("private key");
  std::unique_ptr<BIGNUM, BnFree> owned(d);
  std::string out(32, '\0');
  if (BN_bn2binpad(d, reinterpret_cast<unsigned char*>(out.data()), 32) != 32) fail("bn2binpad");
  return out;
}

std::string ecdh_p256(EVP_PKEY* own_private, EVP_PKEY* peer_public) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(own_private, nullptr));
  std::size_t size = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_public) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &size) != 1) {
    fail("ECDH");
  }
  std::string secret(size, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &size) != 1) {
    fail("ECDH derive");
  }
  secret.resize(size);
  return secret;
}

std::string aes128gcm_seal(std::string_view key16, std::string_view nonce12,
                           std::string_view plaintext) {
  if (key16.size() != 16 || nonce12.size() != 12) throw std::invalid_argument("aes128gcm sizes");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, bytes(key16), bytes(nonce12)) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len, bytes(plaintext), int(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, o + len + fin) != 1) {
    fail("AES-128-GCM");
  }
  return out;
}

PKey pem_private_key(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return PKey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string jwt_es256(std::string_view claims_json, EVP_PKEY* p256_private) {
  return jwt_sign("ES256", claims_json, p256_private);
}

std::string jwt_rs256(std::string_view claims_json, EVP_PKEY* rsa_private) {
  return jwt_sign("RS256", claims_json, rsa_private);
}

}  // namespace todo::notify
