// Reading the JSON body of POST, PUT and PATCH /api/tasks… into a TaskInput (task_routes.cpp);
// declared here so the fuzz target tests/fuzz/task_body.cpp can call it.
#pragma once

#include "domain/error.h"
#include "domain/task.h"
#include "http/message.h"

namespace todo::services::api {

// The body as a TaskInput (fields of the wrong type listed in type_errors), or the problem
// (media type, UTF-8, syntax).
domain::Result<domain::TaskInput> read_task_body(const http::Request& req);

}  // namespace todo::services::api
