// Generated secrets survive restarts so issued tokens stay valid.
#include "app/secret.h"

#include "app/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace todo::app {

std::string load_or_create_secret(const std::filesystem::path& data_dir,
                                  domain::RandomSource& random) {
  auto path = data_dir / "jwt-secret";
  if (std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (!in && !in.eof()) throw std::runtime_error("cannot read " + path.string());
    if (secret.size() < kMinSecretBytes) {
      throw std::runtime_error(path.string() + " holds a secret shorter than 32 bytes");
    }
    return secret;
  }
  std::array<std::byte, 32> bytes{};
  random.fill(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  for (std::byte b : bytes) {
    secret += kHex[std::to_integer<int>(b) >> 4];
    secret += kHex[std::to_integer<int>(b) & 0xf];
  }
  std::filesystem::create_directories(data_dir);
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string());
  std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  std::filesystem::rename(tmp, path);
  return secret;
}

}  // namespace todo::app
