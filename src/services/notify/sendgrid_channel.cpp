// POST /v3/mail/send; 202 Accepted with X-Message-Id means SendGrid took the message.
#include "services/notify/sendgrid_channel.h"

#include <boost/json.hpp>

#include "domain/text.h"
#include "services/notify/webhook_channel.h"

namespace todo::notify {
namespace {

// A title is one line in a subject: control characters (a newline in a title) become spaces.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

EmailContent reminder_email(const Reminder& r) {
  EmailContent e;
  e.subject = (r.late ? "Reminder (late): " : "Reminder: ") + one_line(r.title);
  e.text = r.title + "\n\n";
  e.html = "<p><strong>" + domain::html_escape(r.title) + "</strong></p>\n";
  if (!r.due_local.empty()) {
    e.text += "Due: " + r.due_local + "\n";
    e.html += "<p>Due: " + domain::html_escape(r.due_local) + "</p>\n";
  }
  if (r.late) {
    e.text += "This reminder is late: the server was not running at " + r.fire_at_utc + ".\n";
    e.html += "<p>This reminder is late: the server was not running at " +
              domain::html_escape(r.fire_at_utc) + ".</p>\n";
  }
  if (!r.task_url.empty()) {
    e.text += "\nOpen the task: " + r.task_url + "\n";
    e.html += "<p><a href=\"" + domain::html_escape(r.task_url) + "\">Open the task</a></p>\n";
  }
  return e;
}

Result SendGridChannel::send(const Reminder& reminder, const Target& target) {
  if (!configured()) return {Outcome::kNotConfigured, "", "no --sendgrid-api-key or --mail-from"};
  if (target.address.empty()) return {Outcome::kFailed, "", "empty email address"};
  EmailContent content = reminder_email(reminder);
  boost::json::object body{
      {"personalizations",
       boost::json::array{boost::json::object{
           {"to", boost::json::array{boost::json::object{{"email", target.address}}}}}}},
      {"from", {{"email", options_.from}, {"name", options_.from_name}}},
      {"subject", content.subject},
      {"content",
       boost::json::array{boost::json::object{{"type", "text/plain"}, {"value", content.text}},
                          boost::json::object{{"type", "text/html"}, {"value", content.html}}}},
      {"custom_args", {{"delivery_id", reminder.delivery_id}}},
      {"headers", {{"X-Todo-Delivery-Id", reminder.delivery_id}}},
  };
  HttpRequest request;
  request.url = options_.base_url + "/v3/mail/send";
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + options_.api_key}};
  request.body = boost::json::serialize(body);
  HttpResponse response = http_.send(request);
  Result result = classify_http(response);
  if (result.outcome == Outcome::kDelivered) {
    result.provider_id = response.header("x-message-id").value_or("");
  } else if (response.ok() && (response.status == 401 || response.status == 403)) {
    result.error = "SendGrid refused the API key: " + result.error;
  }
  return result;
}

}  // namespace todo::notify
