// Turns the Authorization header into verified token claims (or the precise 401 problem).
#pragma once

#include "auth/jwt.h"
#include "domain/error.h"
#include "http/message.h"

namespace todo::services::api {

class Authenticator {
 public:
  explicit Authenticator(const auth::JwtCodec& jwt) : jwt_(jwt) {}
  domain::Result<auth::Claims> authenticate(const http::Request& request) const;

 private:
  const auth::JwtCodec& jwt_;
};

}  // namespace todo::services::api
