#include "csv.h"

#include <stdexcept>

namespace sendcloud::cli {
namespace {
constexpr size_t kMaxField = 1 << 20;
constexpr size_t kMaxColumns = 1000;
}  // namespace

CsvTable parseCsv(const std::string& text) {
    std::vector<std::vector<std::string>> records;
    std::vector<std::string> record;
    std::string field;
    bool quoted = false, fieldStarted = false;
    size_t line = 1;
    auto endField = [&] {
        if (field.size() > kMaxField) {
            throw std::runtime_error("line " + std::to_string(line) + ": a field over 1 MiB");
        }
        record.push_back(std::move(field));
        field.clear();
        fieldStarted = false;
        if (record.size() > kMaxColumns) {
            throw std::runtime_error("line " + std::to_string(line) + ": over 1000 columns");
        }
    };
    auto endRecord = [&] {
        endField();
        if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
        record.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && !fieldStarted && field.empty()) {
            quoted = fieldStarted = true;
        } else if (c == ',') {
            endField();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            continue;
        } else if (c == '\n') {
            endRecord();
            ++line;
        } else {
            field += c;
            fieldStarted = true;
        }
    }
    if (quoted) throw std::runtime_error("line " + std::to_string(line) + ": unclosed quote");
    if (fieldStarted || !field.empty() || !record.empty()) endRecord();
    CsvTable t;
    if (records.empty()) throw std::runtime_error("the file is empty: it needs a header line");
    t.header = std::move(records[0]);
    for (size_t i = 1; i < records.size(); ++i) {
        if (records[i].size() != t.header.size()) {
            throw std::runtime_error("record " + std::to_string(i + 1) + " has " +
                                     std::to_string(records[i].size()) +
                                     " fields; the header has " + std::to_string(t.header.size()));
        }
        t.rows.push_back(std::move(records[i]));
    }
    return t;
}

}  // namespace sendcloud::cli
