// The libcurl transport: one easy handle per client, so its connection is kept alive between
// requests; HTTPS is verified against the system's CA store (libcurl's default).

#include "curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace sendcloud::detail {
namespace {

std::once_flag curlInit;

size_t onBody(char* data, size_t size, size_t count, void* user) {
    auto* out = static_cast<HttpResponse*>(user);
    // An API answer is small; a body beyond this is not the API's.
    constexpr size_t kMaxBody = 16 * 1024 * 1024;
    if (out->body.size() + size * count > kMaxBody) return 0;
    out->body.append(data, size * count);
    return size * count;
}

std::string lowerTrim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
    auto* out = static_cast<HttpResponse*>(user);
    std::string line(data, size * count);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = lowerTrim(line.substr(colon + 1));
        value.erase(0, value.find_first_not_of(' '));
        if (name == "retry-after") out->retryAfter = value;
        if (name == "sunset") out->sunset = value;
    } else if (line.rfind("HTTP/", 0) == 0) {
        out->retryAfter.clear();  // a new response (after 100 Continue)
        out->sunset.clear();
    }
    return size * count;
}

}  // namespace

CurlTransport::CurlTransport(std::chrono::milliseconds connectTimeout,
                             std::chrono::milliseconds requestTimeout)
    : connectTimeout_(connectTimeout), requestTimeout_(requestTimeout) {
    std::call_once(curlInit, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle_ = curl_easy_init();
}

CurlTransport::~CurlTransport() {
    if (handle_) curl_easy_cleanup(static_cast<CURL*>(handle_));
}

HttpResponse CurlTransport::perform(const HttpRequest& request) {
    HttpResponse out;
    CURL* curl = static_cast<CURL*>(handle_);
    if (!curl) {
        out.error = "libcurl could not be initialised";
        return out;
    }
    // A reset keeps the connection cache: the next request reuses the open connection.
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connectTimeout_.count()));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(requestTimeout_.count()));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "libsendcloud/0.1");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");

    const bool multipart = std::any_of(request.params.begin(), request.params.end(),
                                       [](const HttpPart& p) { return !p.filename.empty(); });
    std::string form;
    curl_mime* mime = nullptr;
    struct curl_slist* headers = nullptr;
    if (!multipart) {
        for (const auto& p : request.params) {
            char* n = curl_easy_escape(curl, p.name.data(), static_cast<int>(p.name.size()));
            char* v = curl_easy_escape(curl, p.value.data(), static_cast<int>(p.value.size()));
            if (!form.empty()) form += '&';
            form += n ? n : "";
            form += '=';
            form += v ? v : "";
            curl_free(n);
            curl_free(v);
        }
    }
    std::string url = request.url;
    if (request.method == "GET") {
        if (!form.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + form;
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (multipart) {
        mime = curl_mime_init(curl);
        for (const auto& p : request.params) {
            curl_mimepart* part = curl_mime_addpart(mime);
            curl_mime_name(part, p.name.c_str());
            curl_mime_data(part, p.value.data(), p.value.size());
            if (!p.filename.empty()) {
                curl_mime_filename(part, p.filename.c_str());
                curl_mime_type(part, p.contentType.empty() ? "application/octet-stream"
                                                           : p.contentType.c_str());
            }
        }
        curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    } else {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        out.connected = true;
        out.status = static_cast<int>(status);
    } else {
        out.error = curl_easy_strerror(rc);
        out.body.clear();
    }
    // The form held the key: wipe it before the memory is given back.
    std::fill(form.begin(), form.end(), '\0');
    std::fill(url.begin(), url.end(), '\0');
    if (mime) curl_mime_free(mime);
    if (headers) curl_slist_free_all(headers);
    return out;
}

}  // namespace sendcloud::detail
