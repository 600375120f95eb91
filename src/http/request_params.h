#pragma once
// Turns a Request into its parameters: the query string, plus the body for
// application/x-www-form-urlencoded and multipart/form-data. Any other body type is a 415.
// All parsing is bounded by ParseLimits; every failure names what was wrong.

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "http/params.h"
#include "http/request.h"

namespace sc::http {

struct ParseLimits {
    size_t maxParams = 1000;  // parameters (query + body) per request
    size_t maxParamNameBytes = 256;
    size_t maxParts = 100;             // multipart parts
    size_t maxPartHeaderBytes = 8192;  // header block of one multipart part
    size_t maxFileBytes = 10u << 20;   // all file parts together
};

struct UploadedFile {
    std::string field;  // form field name, e.g. "attachments"
    std::string filename;
    std::string contentType;
    std::string data;
};

struct FormData {
    ParamMap params;
    std::vector<UploadedFile> files;
};

struct ParseError {
    int status = 400;     // 400, 413 or 415
    std::string code;     // e.g. "param.malformed_escape", "request.unsupported_media_type"
    std::string param;    // offending parameter name, when there is one
    std::string message;  // for a person; never echoes a parameter's value
};

// Percent-decodes `in`; when `plusIsSpace`, '+' decodes to ' '. Fails on a malformed escape.
Result<std::string, std::string> percentDecode(std::string_view in, bool plusIsSpace);

// Parses an application/x-www-form-urlencoded string (also used for query strings) into `out`.
Result<Ok, ParseError> parseUrlEncoded(std::string_view input, const ParseLimits& limits,
                                       ParamMap& out);

// Parses a multipart/form-data body with the given boundary. Text fields go to out.params; parts
// with a filename go to out.files.
Result<Ok, ParseError> parseMultipart(std::string_view body, std::string_view boundary,
                                      const ParseLimits& limits, FormData& out);

// Query string + body, dispatched on Content-Type.
Result<FormData, ParseError> parseRequestParams(const Request& req, const ParseLimits& limits);

}  // namespace sc::http
