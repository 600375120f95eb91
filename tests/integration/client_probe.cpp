// A long-running libsendcloud program for test_client.py: one email send per line read from
// stdin, one JSON line per send on stdout. The key rotation test changes the key and the
// credentials file between two lines, which a one-shot CLI run cannot show.

#include <iostream>
#include <string>

#include "sendcloud/sendcloud.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: client_probe SERVER CREDENTIALS_FILE\n";
        return 2;
    }
    sendcloud::ClientOptions options;
    options.server = argv[1];
    options.credentials = sendcloud::credentialsFromFile(argv[2], sendcloud::Api::Email);
    options.log = [](const std::string& line) { std::cerr << line << std::endl; };
    sendcloud::EmailClient client(options);
    std::string line;
    int n = 0;
    while (std::getline(std::cin, line)) {
        sendcloud::EmailRequest e;
        e.from = "news@example.com";
        e.to = {"rotation" + std::to_string(++n) + "@example.com"};
        e.subject = "rotation";
        e.plain = "hello";
        try {
            auto r = client.send(e);
            std::cout << "{\"ok\":true,\"attempts\":" << r.attempts << "}" << std::endl;
        } catch (const sendcloud::Error& err) {
            std::cout << "{\"ok\":false,\"attempts\":" << err.attempts() << ",\"errorCode\":\""
                      << err.errorCode() << "\"}" << std::endl;
        }
    }
    return 0;
}
