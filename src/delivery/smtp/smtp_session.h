#pragma once
// One SMTP client connection (RFC 5321) on Boost.Asio C++20 coroutines: connect, greeting,
// EHLO (HELO when EHLO is refused), STARTTLS by policy, AUTH PLAIN/LOGIN for a relay, then any
// number of transactions (MAIL, RCPT, DATA with dot-stuffing; RSET between them), QUIT.
//
// Every stage runs under its own deadline: when it passes, the socket is closed and the stage
// fails with Kind::Timeout. PIPELINING (RFC 2920), when offered, sends MAIL, RCPT and DATA in
// one write. SIZE, 8BITMIME and SMTPUTF8 parameters are added when the server offers them and
// the message needs them; a message that needs SMTPUTF8 or 8BITMIME from a server that lacks
// it fails as a 5xx would (Postfix does the same for SMTPUTF8; for 8BITMIME it would convert,
// but our builder only produces 8bit when told the message has to be).
//
// TLS policy (docs/operations.md): `none` never starts TLS; `may` starts it when offered;
// `encrypt` requires it (any certificate); `verify` requires it with the chain checked against
// the system CAs plus --smtp-ca-file and the certificate's name checked against the MX host
// name. A server without STARTTLS under encrypt/verify fails with TlsUnavailable before a
// single byte of mail is sent.
//
// A session is used by one coroutine at a time, on the executor it was made with.

#include <utility>  // before Asio's coroutine headers (g++ 12 with Boost 1.74)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "delivery/smtp/reply_policy.h"
#include "delivery/smtp/smtp_reply.h"

namespace sc::delivery::smtp {

enum class TlsPolicy { None, May, Encrypt, Verify };
Result<TlsPolicy, std::string> parseTlsPolicy(const std::string& text);

struct StageTimeouts {
    // Short, so that a dead host does not hold a worker (docs/operations.md).
    std::chrono::milliseconds connect{5000};
    // Postfix's defaults: smtp_helo_timeout, smtp_mail/rcpt_timeout, smtp_data_*_timeout.
    std::chrono::milliseconds greeting{300000};
    std::chrono::milliseconds command{300000};
    std::chrono::milliseconds dataInit{120000};
    std::chrono::milliseconds dataDone{600000};
};

struct RelayCredentials {
    std::string user;
    std::string password;  // never logged, never in a SessionFailure
};

struct SessionOptions {
    std::string ehloName = "localhost";
    TlsPolicy tls = TlsPolicy::May;
    // Used for STARTTLS; for Verify it must be set up with verify_peer and the trust anchors.
    boost::asio::ssl::context* tlsContext = nullptr;
    std::string hostName;  // the MX (or relay) name: SNI and the Verify name check
    std::optional<RelayCredentials> auth;
    StageTimeouts timeouts;
    ReplyLimits limits;
};

struct Envelope {
    std::string mailFrom;
    std::string rcptTo;
    bool needsSmtpUtf8 = false;
    bool has8bit = false;
};

class SmtpSession : public std::enable_shared_from_this<SmtpSession> {
public:
    using Executor = boost::asio::any_io_executor;

    static std::shared_ptr<SmtpSession> create(Executor ex, SessionOptions options);

    // Connects and runs greeting, EHLO, STARTTLS and AUTH as the options say.
    boost::asio::awaitable<Status<SessionFailure>> open(boost::asio::ip::tcp::endpoint peer);
    // One transaction; the message is raw (CRLF lines, not dot-stuffed). On success the reply
    // to the end of data. A negative reply leaves the session usable (`usable()`); a timeout,
    // broken connection or 421 does not.
    boost::asio::awaitable<Result<SmtpReply, SessionFailure>> send(const Envelope& envelope,
                                                                   const std::string& message);
    // Polite close: QUIT (bounded by the command deadline), then the socket.
    boost::asio::awaitable<void> quit();
    void close();

    bool usable() const { return open_ && !broken_; }
    int transactions() const { return transactions_; }
    const std::string& remoteIp() const { return remoteIp_; }
    const std::string& tlsVersion() const { return tlsVersion_; }
    const std::string& tlsCipher() const { return tlsCipher_; }
    const SmtpReply& greeting() const { return greeting_; }

    // The EHLO keywords the server offered (upper case), e.g. "PIPELINING", "SIZE".
    bool offers(const std::string& keyword) const;

    SmtpSession(Executor ex, SessionOptions options);  // use create()

private:
    boost::asio::awaitable<Result<SmtpReply, SessionFailure>> readReply(Stage stage);
    boost::asio::awaitable<Status<SessionFailure>> writeAll(Stage stage, const std::string& bytes);
    boost::asio::awaitable<Result<SmtpReply, SessionFailure>> command(
        Stage stage, const std::string& line, std::chrono::milliseconds deadline);
    boost::asio::awaitable<Status<SessionFailure>> hello();
    boost::asio::awaitable<Status<SessionFailure>> startTls();
    boost::asio::awaitable<Status<SessionFailure>> authenticate();
    std::optional<SessionFailure> refusedBeforeSending(bool utf8, size_t messageBytes) const;
    std::string mailCommand(const Envelope& envelope, size_t messageBytes, bool utf8) const;
    boost::asio::awaitable<Status<SessionFailure>> envelopeCommands(const std::string& mail,
                                                                    const std::string& rcpt);

    void arm(std::chrono::milliseconds d);
    void disarm();
    SessionFailure ioFailure(Stage stage, const boost::system::error_code& ec);
    static SessionFailure replyFailure(Stage stage, SmtpReply reply);
    // A failure after which the connection cannot carry another command (marks it broken).
    SessionFailure brokenBy(SessionFailure::Kind kind, Stage stage, std::string detail);
    void parseExtensions(const SmtpReply& ehlo);

    SessionOptions options_;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
    boost::asio::steady_timer deadline_;
    uint64_t deadlineGeneration_ = 0;
    bool timedOut_ = false;
    bool tls_ = false;
    bool open_ = false;
    bool broken_ = false;
    int transactions_ = 0;
    std::string inbuf_;
    std::string remoteIp_;
    std::string tlsVersion_;
    std::string tlsCipher_;
    SmtpReply greeting_;
    std::vector<std::string> keywords_;  // upper case, each "NAME" or "NAME PARAMS"
    uint64_t maxSize_ = 0;               // SIZE, 0: none announced
};

// Dot-stuffing (RFC 5321 §4.5.2) and the terminating "CRLF.CRLF"; a message that does not end
// in CRLF gets one.
std::string dotStuff(const std::string& message);

}  // namespace sc::delivery::smtp
