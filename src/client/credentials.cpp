// Credential sources: the constructor's, the environment's and a private file's.

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sendcloud/sendcloud.h"

namespace sendcloud {
namespace {

const char* userVar(Api api) {
    return api == Api::Email ? "EMAIL_API_USER" : "SMS_API_USER";
}
const char* keyVar(Api api) {
    return api == Api::Email ? "EMAIL_API_KEY" : "SMS_API_KEY";
}

Error credentialsError(std::string hint) {
    return Error(0, "client.credentials", std::move(hint), false);
}

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// A credentials file is small; anything larger is not one.
constexpr off_t kMaxCredentialsFileBytes = 64 * 1024;

Credentials readFile(const std::string& path, Api api) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw credentialsError("cannot read the credentials file " + path + ": " +
                               std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        throw credentialsError("the credentials file " + path + " is not a regular file");
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw credentialsError(std::string("permissions ") + mode + " for the credentials file '" +
                               path +
                               "' are too open: it must not be accessible by others. Run: chmod "
                               "600 '" +
                               path + "'");
    }
    if (st.st_size > kMaxCredentialsFileBytes) {
        throw credentialsError("the credentials file " + path + " is larger than 64 KiB");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw credentialsError("cannot read the credentials file " + path);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::pair<std::string, std::string>> entries;
    try {
        entries = parseCredentialsText(text.str());
    } catch (const Error& e) {
        throw credentialsError(path + ": " + e.hint());
    }
    Credentials c;
    for (const auto& [k, v] : entries) {
        if (k == userVar(api)) c.user = v;
        if (k == keyVar(api)) c.key = v;
    }
    if (c.user.empty() || c.key.empty()) {
        throw credentialsError(std::string("the credentials file ") + path + " has no " +
                               (c.user.empty() ? userVar(api) : keyVar(api)) + " line");
    }
    return c;
}

std::string envOr(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parseCredentialsText(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
        ++number;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
        size_t eq = t.find('=');
        if (eq == std::string::npos || eq == 0) {
            // The line may hold a key: say where, never what.
            throw Error(0, "client.credentials",
                        "line " + std::to_string(number) + " is not KEY=value", false);
        }
        std::string value = trim(t.substr(eq + 1));
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
            value = value.substr(1, value.size() - 2);
        }
        out.emplace_back(trim(t.substr(0, eq)), value);
    }
    return out;
}

CredentialSource fixedCredentials(std::string user, std::string key) {
    return [c = Credentials{std::move(user), std::move(key)}] { return c; };
}

CredentialSource credentialsFromEnvironment(Api api) {
    return [api] {
        Credentials c{envOr(userVar(api)), envOr(keyVar(api))};
        if (c.user.empty() || c.key.empty()) {
            throw credentialsError(std::string("the environment variable ") +
                                   (c.user.empty() ? userVar(api) : keyVar(api)) + " is not set");
        }
        return c;
    };
}

CredentialSource credentialsFromFile(std::string path, Api api) {
    return [path = std::move(path), api] { return readFile(path, api); };
}

CredentialSource defaultCredentials(Api api, const std::string& explicitFile) {
    if (!explicitFile.empty()) return credentialsFromFile(explicitFile, api);
    // Decided on each call, so that a rotation written to either place is seen after a 401.
    return [api] {
        if (!envOr(userVar(api)).empty()) return credentialsFromEnvironment(api)();
        std::string home = envOr("HOME");
        std::string file = home.empty() ? "" : home + "/.config/sendcloud/credentials";
        struct stat st {};
        if (!file.empty() && ::stat(file.c_str(), &st) == 0) return readFile(file, api);
        throw credentialsError(std::string("no credentials: set ") + userVar(api) + " and " +
                               keyVar(api) +
                               ", or write them as KEY=value lines to "
                               "~/.config/sendcloud/credentials (mode 600), or pass "
                               "--credentials-file FILE");
    };
}

}  // namespace sendcloud
