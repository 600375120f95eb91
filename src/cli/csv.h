#pragma once
// A small RFC 4180 reader for the bulk sends: quoted fields, "" inside quotes, CRLF or LF, with
// limits (a CSV is untrusted input).

#include <string>
#include <vector>

namespace sendcloud::cli {

struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

// Throws std::runtime_error naming the line of the first problem.
CsvTable parseCsv(const std::string& text);

}  // namespace sendcloud::cli
