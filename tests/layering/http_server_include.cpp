// Includes a header of the http module. Built by a target that links only todo_domain it must
// fail to compile (domain may not use http, DESIGN.md §2); built by one that links todo_http it
// must compile. See CMakeLists.txt here.
#include "http/server.h"

int main() { return 0; }
