#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>

namespace sc {
namespace {

class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sc-config-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        unsetenv("SENDCLOUD_MAX_RECIPIENTS");
        unsetenv("SENDCLOUD_CONFIG");
    }
    void TearDown() override {
        unsetenv("SENDCLOUD_MAX_RECIPIENTS");
        std::filesystem::remove_all(dir_);
    }

    Result<Settings, std::string> load(std::vector<std::string> args) {
        CLI::App app;
        SettingsLoader loader;
        loader.bindFlags(app);
        std::vector<const char*> argv{"sendcloudd"};
        for (auto& a : args) argv.push_back(a.c_str());
        app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
        return loader.resolve();
    }

    std::string writeToml(const std::string& text) {
        std::string path = dir_ + "/sendcloud.toml";
        std::ofstream(path) << text;
        return path;
    }

    std::string dir_;
};

TEST_F(ConfigTest, DefaultsAreTheDocumentedOnes) {
    auto s = load({});
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ(s->listen, "127.0.0.1:8080");
    EXPECT_EQ(s->dataDir, "./var");
    EXPECT_EQ(s->maxHeaderBytes, 16 * 1024);
    EXPECT_EQ(s->maxBodyBytes, 12 * 1024 * 1024);
    EXPECT_EQ(s->emailKeyGrace, 900);
    EXPECT_EQ(s->databasePath(), "./var/sendcloud.db");
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlags) {
    auto path = writeToml("max_recipients = 5\nlisten = \"127.0.0.1:9000\"\ndemo = false\n");
    auto fromFile = load({"--config", path});
    ASSERT_TRUE(fromFile.ok()) << fromFile.error();
    EXPECT_EQ(fromFile->maxRecipients, 5);
    EXPECT_EQ(fromFile->listen, "127.0.0.1:9000");
    EXPECT_FALSE(fromFile->demo);

    setenv("SENDCLOUD_MAX_RECIPIENTS", "7", 1);
    auto fromEnv = load({"--config", path});
    ASSERT_TRUE(fromEnv.ok());
    EXPECT_EQ(fromEnv->maxRecipients, 7);

    auto fromFlag = load({"--config", path, "--max-recipients", "9"});
    ASSERT_TRUE(fromFlag.ok());
    EXPECT_EQ(fromFlag->maxRecipients, 9);
    EXPECT_EQ(fromFlag->listen, "127.0.0.1:9000");
}

TEST_F(ConfigTest, BadValuesNameTheSetting) {
    auto r = load({"--max-recipients", "lots"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("--max-recipients"), std::string::npos);

    auto unknown = load({"--config", writeToml("no_such_setting = 1\n")});
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().find("no_such_setting"), std::string::npos);

    auto broken = load({"--config", writeToml("listen = \n")});
    EXPECT_FALSE(broken.ok());
}

TEST_F(ConfigTest, PublicUrlIsAnHttpBaseUrl) {
    auto ok = load({"--public-url", "https://sms.acme.example:8443/sc"});
    ASSERT_TRUE(ok.ok()) << ok.error();
    EXPECT_EQ(ok->publicUrl, "https://sms.acme.example:8443/sc");
    EXPECT_EQ(load({})->publicUrl, "");
    for (const char* bad :
         {"sms.acme.example:8080", "ftp://x", "http://x/?token=1", "http://x#f"}) {
        auto r = load({"--public-url", bad});
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_NE(r.error().find("--public-url"), std::string::npos) << r.error();
    }
}

// Issue #11: `demo` on and cookies without Secure were the defaults with no word about it on a
// listener other machines can reach.
TEST(ExposureWarningTest, OnlyAReachableListenerWithDemoOrPlainCookiesIsWarnedAbout) {
    Settings s;  // the defaults: 127.0.0.1, demo on, cookies without Secure
    EXPECT_FALSE(exposureWarning(s));
    for (const char* loopback : {"127.0.0.1:0", "127.1.2.3:8080", "[::1]:8080", "localhost:80"}) {
        s.listen = loopback;
        EXPECT_FALSE(exposureWarning(s)) << loopback;
    }
    for (const char* reachable : {"0.0.0.0:8080", "[::]:8080", "192.0.2.7:80", "mail.example:80"}) {
        s.listen = reachable;
        s.demo = true;
        s.secureCookies = false;
        auto both = exposureWarning(s);
        ASSERT_TRUE(both) << reachable;
        EXPECT_NE(both->find("demo = true"), std::string::npos) << *both;
        EXPECT_NE(both->find("secure_cookies = false"), std::string::npos) << *both;
        EXPECT_EQ(both->find('\n'), std::string::npos);  // one line
        s.demo = false;
        auto cookies = exposureWarning(s);
        ASSERT_TRUE(cookies);
        EXPECT_EQ(cookies->find("demo = true"), std::string::npos) << *cookies;
        s.secureCookies = true;
        EXPECT_FALSE(exposureWarning(s)) << reachable;
        s.demo = true;
        auto demo = exposureWarning(s);
        ASSERT_TRUE(demo);
        EXPECT_EQ(demo->find("secure_cookies"), std::string::npos) << *demo;
    }
}

// Issue #11: our own TLS listener serves the console over TLS, so its cookies are Secure and the
// cookie warning has nothing to say; `demo` is still worth a word on a reachable TLS listener.
TEST(ExposureWarningTest, OwnTlsListenerTurnsSecureCookiesOnAndSilencesTheCookieWarning) {
    Settings s;
    s.demo = false;
    s.listen = "0.0.0.0:8080";
    EXPECT_FALSE(s.effectiveSecureCookies());
    ASSERT_TRUE(exposureWarning(s));
    s.tlsListen = "0.0.0.0:8443";
    EXPECT_TRUE(s.effectiveSecureCookies());
    EXPECT_FALSE(exposureWarning(s));

    s.listen = "127.0.0.1:8080";  // plain on loopback, TLS reachable, demo on
    s.demo = true;
    auto demo = exposureWarning(s);
    ASSERT_TRUE(demo);
    EXPECT_NE(demo->find("0.0.0.0"), std::string::npos) << *demo;
    EXPECT_EQ(demo->find("secure_cookies"), std::string::npos) << *demo;
    s.tlsListen = "127.0.0.1:8443";
    EXPECT_FALSE(exposureWarning(s));
}

}  // namespace
}  // namespace sc
