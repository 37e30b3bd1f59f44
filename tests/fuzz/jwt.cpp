// JWT verification (auth::JwtCodec::verify) with a fixed secret and clock. An input is either a
// compact token "header.payload.signature", verified as it is and again re-signed (its
// "header.payload" with the right key and with a wrong one), or two lines "<header JSON>\n<payload
// JSON>" made into a token signed with the right key and with a wrong one, so that the fuzzer
// reaches the claim checks behind the signature.
// Properties: nothing crashes or leaks; a token signed with another key never verifies; accepted
// claims are for our issuer and audience and neither expired nor from the future.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "auth/tokens.h"
#include "domain/clock.h"
#include "fuzz_support.h"

namespace {

using namespace todo;

constexpr std::string_view kSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0123";
constexpr std::string_view kOtherSecret = "fuzz-secret-fuzz-secret-fuzz-secret-0124";

class ZeroRandom final : public domain::RandomSource {
 public:
  void fill(std::span<std::byte> out) override {
    for (std::byte& b : out) b = std::byte{0};
  }
};

struct Harness {
  domain::ManualClock clock{fuzz::kNow};
  ZeroRandom random;
  auth::JwtCodec codec{auth::JwtSettings{std::string(kSecret)}, clock, random};
  std::int64_t now = 0;
  std::int64_t leeway = 0;

  Harness() {
    now = std::chrono::floor<std::chrono::seconds>(clock.now()).time_since_epoch().count();
    leeway = auth::JwtSettings{}.leeway.count();
    // The harness itself: a token we issue verifies.
    const auto issued = codec.issue("0190b4c4-7d3e-7a8b-9c0d-1e2f3a4b5c6d", "alice@example.com",
                                    domain::Role::kUser);
    FUZZ_CHECK(codec.verify(issued.token).has_value());
  }

  void check(const domain::Result<auth::Claims>& result) const {
    if (!result) {
      FUZZ_CHECK(!result.error().detail.empty());
      return;
    }
    const auth::Claims& claims = *result;
    FUZZ_CHECK(!claims.sub.empty());
    FUZZ_CHECK(claims.iss == "todo");
    FUZZ_CHECK(claims.aud == "todo-api");
    FUZZ_CHECK(claims.exp > now - leeway);
    FUZZ_CHECK(claims.iat <= now + leeway);
  }

  // `signing_input` ("header.payload") signed with our key, then with another one.
  void check_signed(std::string_view signing_input) const {
    const std::string input(signing_input);
    check(codec.verify(input + "." + auth::base64url_encode(auth::hmac_sha256(kSecret, input))));
    const auto forged =
        codec.verify(input + "." + auth::base64url_encode(auth::hmac_sha256(kOtherSecret, input)));
    FUZZ_CHECK(!forged.has_value());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Harness harness;
  const std::string_view text = fuzz::as_text(data, size);

  if (const auto newline = text.find('\n'); newline != std::string_view::npos) {
    const std::string_view header = text.substr(0, newline);
    const std::string_view payload = text.substr(newline + 1);
    harness.check_signed(auth::base64url_encode(header) + "." + auth::base64url_encode(payload));
    return 0;
  }
  harness.check(harness.codec.verify(text));
  if (const auto dot = text.rfind('.'); dot != std::string_view::npos) {
    harness.check_signed(text.substr(0, dot));
  }
  return 0;
}
