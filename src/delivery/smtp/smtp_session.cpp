#include "delivery/smtp/smtp_session.h"

#include <openssl/ssl.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>

namespace sc::delivery::smtp {

namespace net = boost::asio;
using net::awaitable;
using net::use_awaitable;
using tcp = net::ip::tcp;

Result<TlsPolicy, std::string> parseTlsPolicy(const std::string& text) {
    if (text == "none") return TlsPolicy::None;
    if (text == "may") return TlsPolicy::May;
    if (text == "encrypt") return TlsPolicy::Encrypt;
    if (text == "verify") return TlsPolicy::Verify;
    return fail("'" + text + "' is not one of none, may, encrypt, verify");
}

std::string dotStuff(const std::string& message) {
    std::string out;
    out.reserve(message.size() + message.size() / 64 + 8);
    bool lineStart = true;
    for (char c : message) {
        if (lineStart && c == '.') out.push_back('.');
        out.push_back(c);
        lineStart = c == '\n';
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    out += ".\r\n";
    return out;
}

namespace {

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string base64(const std::string& in) {
    std::string out(sodium_base64_encoded_len(in.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()),
                      in.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

bool isAscii(const std::string& s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

std::shared_ptr<SmtpSession> SmtpSession::create(Executor ex, SessionOptions options) {
    return std::make_shared<SmtpSession>(std::move(ex), std::move(options));
}

namespace {
net::ssl::context& placeholderContext() {
    // The stream needs a context even for a session that never starts TLS.
    static net::ssl::context ctx(net::ssl::context::tls_client);
    return ctx;
}
}  // namespace

SmtpSession::SmtpSession(Executor ex, SessionOptions options)
    : options_(std::move(options)),
      stream_(ex, options_.tlsContext ? *options_.tlsContext : placeholderContext()),
      deadline_(ex) {}

bool SmtpSession::offers(const std::string& keyword) const {
    for (const auto& k : keywords_) {
        if (k == keyword ||
            (k.size() > keyword.size() && k.compare(0, keyword.size(), keyword) == 0 &&
             k[keyword.size()] == ' '))
            return true;
    }
    return false;
}

void SmtpSession::arm(std::chrono::milliseconds d) {
    const uint64_t generation = ++deadlineGeneration_;
    timedOut_ = false;
    deadline_.expires_after(d);
    deadline_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
        if (ec || generation != self->deadlineGeneration_) return;
        self->timedOut_ = true;
        boost::system::error_code ignored;
        self->stream_.next_layer().close(ignored);
    });
}

void SmtpSession::disarm() {
    ++deadlineGeneration_;
    deadline_.cancel();
}

SessionFailure SmtpSession::ioFailure(Stage stage, const boost::system::error_code& ec) {
    broken_ = true;
    SessionFailure f;
    f.stage = stage;
    if (timedOut_) {
        f.kind = stage == Stage::Connect ? SessionFailure::Kind::ConnectFailed
                                         : SessionFailure::Kind::Timeout;
        f.detail = "timed out";
    } else {
        f.kind = stage == Stage::Connect ? SessionFailure::Kind::ConnectFailed
                                         : SessionFailure::Kind::Network;
        f.detail = ec.message();
    }
    return f;
}

SessionFailure SmtpSession::brokenBy(SessionFailure::Kind kind, Stage stage, std::string detail) {
    broken_ = true;
    SessionFailure f;
    f.kind = kind;
    f.stage = stage;
    f.detail = std::move(detail);
    return f;
}

SessionFailure SmtpSession::replyFailure(Stage stage, SmtpReply reply) {
    SessionFailure f;
    f.kind = SessionFailure::Kind::Reply;
    f.stage = stage;
    f.reply = std::move(reply);
    return f;
}

awaitable<Result<SmtpReply, SessionFailure>> SmtpSession::readReply(Stage stage) {
    std::array<char, 4096> chunk;
    while (true) {
        auto parsed = parseReply(inbuf_, options_.limits);
        if (parsed.status == ReplyParse::Status::Complete) {
            inbuf_.erase(0, parsed.consumed);
            if (parsed.reply.code == 421) broken_ = true;  // the server closes after a 421
            co_return std::move(parsed.reply);
        }
        if (parsed.status == ReplyParse::Status::Error) {
            co_return fail(brokenBy(SessionFailure::Kind::Protocol, stage, parsed.error));
        }
        boost::system::error_code ec;
        std::size_t n;
        if (tls_)
            n = co_await stream_.async_read_some(net::buffer(chunk),
                                                 net::redirect_error(use_awaitable, ec));
        else
            n = co_await stream_.next_layer().async_read_some(
                net::buffer(chunk), net::redirect_error(use_awaitable, ec));
        if (ec) co_return fail(ioFailure(stage, ec));
        inbuf_.append(chunk.data(), n);
    }
}

awaitable<Status<SessionFailure>> SmtpSession::writeAll(Stage stage, const std::string& bytes) {
    boost::system::error_code ec;
    if (tls_)
        co_await net::async_write(stream_, net::buffer(bytes),
                                  net::redirect_error(use_awaitable, ec));
    else
        co_await net::async_write(stream_.next_layer(), net::buffer(bytes),
                                  net::redirect_error(use_awaitable, ec));
    if (ec) co_return fail(ioFailure(stage, ec));
    co_return Ok{};
}

awaitable<Result<SmtpReply, SessionFailure>> SmtpSession::command(
    Stage stage, const std::string& line, std::chrono::milliseconds deadline) {
    arm(deadline);
    auto w = co_await writeAll(stage, line);
    if (!w) {
        disarm();
        co_return fail(std::move(w).error());
    }
    auto r = co_await readReply(stage);
    disarm();
    co_return r;
}

void SmtpSession::parseExtensions(const SmtpReply& ehlo) {
    keywords_.clear();
    maxSize_ = 0;
    // The first line is the server's name; each further line one keyword and its parameters.
    for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
        std::string k = upper(ehlo.lines[i]);
        while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
        if (k.compare(0, 5, "SIZE ") == 0) maxSize_ = std::strtoull(k.c_str() + 5, nullptr, 10);
        keywords_.push_back(std::move(k));
    }
}

awaitable<Status<SessionFailure>> SmtpSession::hello() {
    auto r = co_await command(Stage::Helo, "EHLO " + options_.ehloName + "\r\n",
                              options_.timeouts.greeting);
    if (!r) co_return fail(std::move(r).error());
    if (r->code == 250) {
        parseExtensions(*r);
        co_return Ok{};
    }
    if (r->code == 421) co_return fail(replyFailure(Stage::Helo, std::move(r).value()));
    // An old server that does not know EHLO (RFC 5321 §4.1.4): HELO, no extensions.
    auto h = co_await command(Stage::Helo, "HELO " + options_.ehloName + "\r\n",
                              options_.timeouts.greeting);
    if (!h) co_return fail(std::move(h).error());
    if (h->code != 250) co_return fail(replyFailure(Stage::Helo, std::move(h).value()));
    keywords_.clear();
    co_return Ok{};
}

awaitable<Status<SessionFailure>> SmtpSession::startTls() {
    if (options_.tlsContext == nullptr) {
        SessionFailure f;
        f.kind = SessionFailure::Kind::TlsFailed;
        f.stage = Stage::StartTls;
        f.detail = "no TLS context configured";
        co_return fail(std::move(f));
    }
    auto r = co_await command(Stage::StartTls, "STARTTLS\r\n", options_.timeouts.command);
    if (!r) co_return fail(std::move(r).error());
    if (r->code != 220) co_return fail(replyFailure(Stage::StartTls, std::move(r).value()));
    if (!inbuf_.empty()) {
        // Bytes after the 220 would be plaintext injected into the TLS session (CVE-2011-0411).
        co_return fail(brokenBy(SessionFailure::Kind::Protocol, Stage::StartTls,
                                "data pipelined after the STARTTLS reply"));
    }
    SSL* ssl = stream_.native_handle();
    if (!options_.hostName.empty()) {
        SSL_set_tlsext_host_name(ssl, options_.hostName.c_str());
        if (options_.tls == TlsPolicy::Verify) {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            SSL_set1_host(ssl, options_.hostName.c_str());
        }
    }
    SSL_set_verify(ssl, options_.tls == TlsPolicy::Verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                   nullptr);
    arm(options_.timeouts.command);
    boost::system::error_code ec;
    co_await stream_.async_handshake(net::ssl::stream_base::client,
                                     net::redirect_error(use_awaitable, ec));
    disarm();
    if (ec) {
        SessionFailure f = brokenBy(
            timedOut_ ? SessionFailure::Kind::Timeout : SessionFailure::Kind::TlsFailed,
            Stage::StartTls,
            timedOut_ ? "TLS handshake timed out" : "TLS handshake failed: " + ec.message());
        if (options_.tls == TlsPolicy::Verify) {
            long vr = SSL_get_verify_result(ssl);
            if (vr != X509_V_OK)
                f.detail =
                    std::string("certificate not trusted: ") + X509_verify_cert_error_string(vr);
        }
        co_return fail(std::move(f));
    }
    tls_ = true;
    tlsVersion_ = SSL_get_version(ssl);
    if (const char* c = SSL_get_cipher_name(ssl)) tlsCipher_ = c;
    // RFC 3207 §4.2: forget everything learnt before TLS and say EHLO again.
    co_return co_await hello();
}

awaitable<Status<SessionFailure>> SmtpSession::authenticate() {
    const auto& cred = *options_.auth;
    Result<SmtpReply, SessionFailure> r = fail(SessionFailure{});
    if (offers("AUTH") && std::any_of(keywords_.begin(), keywords_.end(), [](const std::string& k) {
            return k.compare(0, 5, "AUTH ") == 0 && k.find(" PLAIN") != std::string::npos;
        })) {
        std::string token;
        token.push_back('\0');
        token += cred.user;
        token.push_back('\0');
        token += cred.password;
        r = co_await command(Stage::Auth, "AUTH PLAIN " + base64(token) + "\r\n",
                             options_.timeouts.command);
        sodium_memzero(token.data(), token.size());
    } else {
        r = co_await command(Stage::Auth, "AUTH LOGIN\r\n", options_.timeouts.command);
        if (r && r->code == 334)
            r = co_await command(Stage::Auth, base64(cred.user) + "\r\n",
                                 options_.timeouts.command);
        if (r && r->code == 334)
            r = co_await command(Stage::Auth, base64(cred.password) + "\r\n",
                                 options_.timeouts.command);
    }
    if (!r) co_return fail(std::move(r).error());
    if (r->code != 235) co_return fail(replyFailure(Stage::Auth, std::move(r).value()));
    co_return Ok{};
}

awaitable<Status<SessionFailure>> SmtpSession::open(tcp::endpoint peer) {
    remoteIp_ = peer.address().to_string();
    arm(options_.timeouts.connect);
    boost::system::error_code ec;
    co_await stream_.next_layer().async_connect(peer, net::redirect_error(use_awaitable, ec));
    disarm();
    if (ec) co_return fail(ioFailure(Stage::Connect, ec));
    open_ = true;

    arm(options_.timeouts.greeting);
    auto greeting = co_await readReply(Stage::Greeting);
    disarm();
    if (!greeting) co_return fail(std::move(greeting).error());
    if (greeting->code != 220) {
        broken_ = true;
        co_return fail(replyFailure(Stage::Greeting, std::move(greeting).value()));
    }
    greeting_ = std::move(greeting).value();

    if (auto h = co_await hello(); !h) co_return h;

    const bool tlsRequired =
        options_.tls == TlsPolicy::Encrypt || options_.tls == TlsPolicy::Verify;
    if (options_.tls != TlsPolicy::None && offers("STARTTLS")) {
        if (auto t = co_await startTls(); !t) co_return t;
    } else if (tlsRequired) {
        co_return fail(brokenBy(SessionFailure::Kind::TlsUnavailable, Stage::StartTls,
                                "TLS is required and the server does not offer STARTTLS"));
    }
    if (options_.auth) {
        if (auto a = co_await authenticate(); !a) co_return a;
    }
    co_return Ok{};
}

// A message this server cannot take, told before anything is sent, as the reply a server would
// give: one that needs SMTPUTF8 where it is not offered, or one over the announced SIZE.
std::optional<SessionFailure> SmtpSession::refusedBeforeSending(bool utf8,
                                                                size_t messageBytes) const {
    SmtpReply r;
    if (utf8 && !offers("SMTPUTF8")) {
        r.code = 553;
        r.enhancedCode = "5.6.7";
        r.lines = {"5.6.7 the message needs SMTPUTF8 and the server does not offer it"};
    } else if (maxSize_ > 0 && messageBytes > maxSize_) {
        r.code = 552;
        r.enhancedCode = "5.3.4";
        r.lines = {"5.3.4 message larger than the server's SIZE limit of " +
                   std::to_string(maxSize_)};
    } else {
        return std::nullopt;
    }
    return replyFailure(Stage::Mail, std::move(r));
}

// MAIL FROM with the parameters the server offers and the message needs.
std::string SmtpSession::mailCommand(const Envelope& envelope, size_t messageBytes,
                                     bool utf8) const {
    std::string mail = "MAIL FROM:<" + envelope.mailFrom + ">";
    if (offers("SIZE")) mail += " SIZE=" + std::to_string(messageBytes);
    if (envelope.has8bit && offers("8BITMIME")) mail += " BODY=8BITMIME";
    if (utf8) mail += " SMTPUTF8";
    mail += "\r\n";
    return mail;
}

// MAIL, RCPT and DATA up to the server's 354. With PIPELINING (RFC 2920) the three go in one
// write and their replies come back in order; without it, one at a time.
awaitable<Status<SessionFailure>> SmtpSession::envelopeCommands(const std::string& mail,
                                                                const std::string& rcpt) {
    auto accepted = [](Stage stage, const SmtpReply& r) {
        switch (stage) {
            case Stage::Mail:
                return r.code == 250;
            case Stage::Rcpt:
                return r.code == 250 || r.code == 251;
            default:
                return r.code == 354;
        }
    };
    if (!offers("PIPELINING")) {
        const std::pair<Stage, const std::string*> steps[] = {
            {Stage::Mail, &mail}, {Stage::Rcpt, &rcpt}, {Stage::Data, nullptr}};
        static const std::string kData = "DATA\r\n";
        for (const auto& [stage, line] : steps) {
            auto r = co_await command(
                stage, line ? *line : kData,
                stage == Stage::Data ? options_.timeouts.dataInit : options_.timeouts.command);
            if (!r) co_return fail(std::move(r).error());
            if (!accepted(stage, *r)) co_return fail(replyFailure(stage, std::move(r).value()));
        }
        co_return Ok{};
    }
    arm(options_.timeouts.command);
    if (auto w = co_await writeAll(Stage::Mail, mail + rcpt + "DATA\r\n"); !w) {
        disarm();
        co_return fail(std::move(w).error());
    }
    // All three replies are read before any is judged: they are on their way regardless.
    SmtpReply replies[3];
    const Stage stages[3] = {Stage::Mail, Stage::Rcpt, Stage::Data};
    for (int i = 0; i < 3; ++i) {
        auto r = co_await readReply(stages[i]);
        if (!r) {
            disarm();
            co_return fail(std::move(r).error());
        }
        replies[i] = std::move(r).value();
    }
    disarm();
    for (int i = 0; i < 3; ++i) {
        if (!accepted(stages[i], replies[i]))
            co_return fail(replyFailure(stages[i], std::move(replies[i])));
    }
    co_return Ok{};
}

awaitable<Result<SmtpReply, SessionFailure>> SmtpSession::send(const Envelope& envelope,
                                                               const std::string& message) {
    if (transactions_ > 0) {
        auto r = co_await command(Stage::Rset, "RSET\r\n", options_.timeouts.command);
        if (!r) co_return r;
        if (r->code != 250) {
            broken_ = true;
            co_return fail(replyFailure(Stage::Rset, std::move(r).value()));
        }
    }
    ++transactions_;

    const bool utf8 =
        envelope.needsSmtpUtf8 || !isAscii(envelope.mailFrom) || !isAscii(envelope.rcptTo);
    if (auto refused = refusedBeforeSending(utf8, message.size())) co_return fail(*refused);
    const std::string rcpt = "RCPT TO:<" + envelope.rcptTo + ">\r\n";
    if (auto e = co_await envelopeCommands(mailCommand(envelope, message.size(), utf8), rcpt); !e)
        co_return fail(std::move(e).error());

    auto done = co_await command(Stage::Dot, dotStuff(message), options_.timeouts.dataDone);
    if (!done) co_return done;
    if (done->code / 100 != 2) co_return fail(replyFailure(Stage::Dot, std::move(done).value()));
    co_return done;
}

awaitable<void> SmtpSession::quit() {
    if (open_ && !broken_) {
        auto r = co_await command(Stage::Quit, "QUIT\r\n", options_.timeouts.command);
        (void)r;
    }
    close();
}

void SmtpSession::close() {
    disarm();
    boost::system::error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
    open_ = false;
}

}  // namespace sc::delivery::smtp
