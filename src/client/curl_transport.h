#pragma once
// CurlTransport: the real Transport, one libcurl easy handle (and its kept-alive connection).

#include <chrono>

#include "sendcloud/sendcloud.h"

namespace sendcloud::detail {

class CurlTransport {
public:
    CurlTransport(std::chrono::milliseconds connectTimeout,
                  std::chrono::milliseconds requestTimeout);
    ~CurlTransport();
    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    HttpResponse perform(const HttpRequest& request);

private:
    void* handle_ = nullptr;
    std::chrono::milliseconds connectTimeout_;
    std::chrono::milliseconds requestTimeout_;
};

}  // namespace sendcloud::detail
