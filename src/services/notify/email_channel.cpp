// The SMTP e-mail channel: the MIME message and one libcurl SMTP transfer per delivery.
#include "services/notify/email_channel.h"

#include <curl/curl.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "domain/civil.h"
#include "domain/text.h"
#include "domain/time_format.h"
#include "services/notify/http_client.h"  // init_libcurl

namespace todo::notify {
namespace {

// Base64 body lines of 76 characters (RFC 2045).
std::string base64_body(std::string_view bytes) {
  const std::string encoded = base64_encode(bytes);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out += encoded.substr(i, 76);
    out += "\r\n";
  }
  return out;
}

bool plain_header_text(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return s.find("=?") == std::string_view::npos;
}

// Length of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

// Header values must not carry line breaks (header injection); a title cannot hold any (the
// domain refuses control characters), this is belt and braces for addresses from config.
std::string one_line(std::string_view s) {
  std::string out;
  for (const char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

// RFC 5322 date-time in UTC: "Sun, 06 Dec 2026 08:00:00 +0000".
std::string rfc5322_date(domain::Timestamp t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto secs = std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
  const auto days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const auto in_day = secs - days * 86400;
  const domain::LocalDate date = domain::civil_from_days(days);
  char out[64];
  std::snprintf(out, sizeof out, "%s, %02d %s %d %02d:%02d:%02d +0000",
                kDays[domain::weekday_from_days(days)], date.day, kMonths[date.month - 1],
                date.year, static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return out;
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 == address.size()) return "todo.invalid";
  return std::string(address.substr(at + 1));
}

struct Upload {
  std::string_view data;
  std::size_t sent = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->data.size() - upload->sent);
  std::memcpy(buffer, upload->data.data() + upload->sent, n);
  upload->sent += n;
  return n;
}

}  // namespace

std::string encode_header_value(std::string_view utf8) {
  if (plain_header_text(utf8)) return std::string(utf8);
  // "=?UTF-8?B?" + base64 + "?=" within 75 characters: 63 base64 characters, 45 bytes at most.
  constexpr std::size_t kMaxBytes = 45;
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      const std::size_t next = end + sequence_length(static_cast<unsigned char>(utf8[end]));
      if (next - i > kMaxBytes) break;
      end = std::min(next, utf8.size());
    }
    if (end == i) end = std::min(i + kMaxBytes, utf8.size());  // cannot happen with valid UTF-8
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string mailbox_address(std::string_view mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return std::string(mailbox.substr(open + 1, close - open - 1));
  }
  return std::string(mailbox);
}

std::string render_reminder_email(const Reminder& r, std::string_view from, std::string_view to,
                                  domain::Timestamp date) {
  const std::string subject = std::string(r.late ? "Reminder (late): " : "Reminder: ") + r.title;
  const std::string boundary = "todo-alternative-" + r.delivery_id;
  const std::string due_line = r.due_local.empty() ? "No due date" : "Due: " + r.due_local;
  const std::string late_line =
      r.late ? "This reminder is late: the server was not running at its time.\n\n" : "";

  const std::string text =
      r.title + "\n\n" + due_line + "\n\n" + late_line + "Open the task: " + r.task_url + "\n";
  const std::string html =
      "<!DOCTYPE html>\n<html><body>\n<h1>" + domain::html_escape(r.title) + "</h1>\n<p>" +
      domain::html_escape(due_line) + "</p>\n" +
      (r.late ? "<p><em>This reminder is late: the server was not running at its time.</em></p>\n"
              : "") +
      "<p><a href=\"" + domain::html_escape(r.task_url) +
      "\">Open the task</a></p>\n</body></html>\n";

  std::string m;
  m += "From: " + one_line(from) + "\r\n";
  m += "To: " + one_line(to) + "\r\n";
  m += "Subject: " + encode_header_value(one_line(subject)) + "\r\n";
  m += "Date: " + rfc5322_date(date) + "\r\n";
  m += "Message-ID: <" + r.delivery_id + "@" + domain_of(mailbox_address(from)) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-Todo-Delivery-Id: " + r.delivery_id + "\r\n";
  m += "X-Todo-Task-Id: " + r.task_id + "\r\n";
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  m += "\r\n";
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += base64_body(text);
  m += "--" + boundary + "\r\n";
  m += "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  m += base64_body(html);
  m += "--" + boundary + "--\r\n";
  return m;
}

SmtpEmailChannel::SmtpEmailChannel(SmtpOptions options, const domain::Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  init_libcurl();
}

bool SmtpEmailChannel::configured() const {
  return !options_.url.empty() && !options_.mail_from.empty();
}

Result SmtpEmailChannel::send(const Reminder& reminder, const Target& target) {
  if (!configured()) return {Outcome::kNotConfigured, "", "no SMTP server is configured"};
  const std::string to = mailbox_address(target.address);
  const std::string message = render_reminder_email(reminder, options_.mail_from, to, clock_.now());
  const std::string message_id =
      "<" + reminder.delivery_id + "@" + domain_of(mailbox_address(options_.mail_from)) + ">";

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return {Outcome::kRetry, "", "libcurl could not create a handle"};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> recipients(
      curl_slist_append(nullptr, ("<" + to + ">").c_str()), curl_slist_free_all);
  Upload upload{message};
  char error[CURL_ERROR_SIZE] = {};
  const std::string from = "<" + mailbox_address(options_.mail_from) + ">";
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // smtp://: STARTTLS when the server offers it; smtps:// is TLS from the first byte anyway.
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!options_.user.empty()) curl_easy_setopt(h, CURLOPT_USERNAME, options_.user.c_str());
  if (!options_.password.empty()) curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  const CURLcode code = curl_easy_perform(h);
  if (code == CURLE_OK) return {Outcome::kDelivered, message_id, ""};
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  std::string why = error[0] != '\0' ? error : curl_easy_strerror(code);
  if (reply > 0) why = "SMTP " + std::to_string(reply) + ": " + why;
  // 5xx is the server's final word on this message or recipient; anything else (4xx, no
  // connection, a timeout, TLS trouble) may heal.
  if (reply >= 500 && reply < 600 && code != CURLE_LOGIN_DENIED) {
    return {Outcome::kFailed, "", why};
  }
  return {Outcome::kRetry, "", why};
}

}  // namespace todo::notify
