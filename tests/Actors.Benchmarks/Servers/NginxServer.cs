using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Servers;

/// <summary>
/// nginx as the static-file reference: a minimal config written into the temp dir, run in the
/// foreground with every path (pid, logs, temp) inside that dir so it touches nothing else.
/// </summary>
public static class NginxServer
{
    public static Task<RunningServer> StartAsync(TempDirectory temp, string root, CancellationToken cancellationToken)
    {
        var nginx = CommandRunner.Which("nginx") ?? throw new ServerUnavailableException("nginx not installed (apt-get install -y nginx)");
        var port = Ports.FindFree();
        var prefix = temp.CreateSubdirectory("nginx");
        var config = Path.Combine(prefix, "nginx.conf");
        TempDirectory.WriteText(config, Config(prefix, root, port));
        // -e: the error log is opened before the config is read; keep it out of /var/log.
        string[] arguments = ["-c", config, "-p", prefix, "-e", Path.Combine(prefix, "error.log")];
        return ServerProcess.StartAsync("nginx", nginx, arguments, port, cancellationToken, workingDirectory: prefix);
    }

    private static string Config(string prefix, string root, int port) => $$"""
        worker_processes auto;
        daemon off;
        pid {{prefix}}/nginx.pid;
        error_log {{prefix}}/error.log warn;

        events {
            worker_connections 4096;
        }

        http {
            access_log off;
            sendfile on;
            tcp_nopush on;
            keepalive_timeout 65;
            # The default (1000) closes each connection after 1000 requests; Kestrel has no such
            # limit, so lift it to compare keep-alive serving like for like.
            keepalive_requests 1000000;
            types {
                text/html html;
                application/octet-stream bin;
            }
            default_type application/octet-stream;
            client_body_temp_path {{prefix}}/client_body;
            proxy_temp_path {{prefix}}/proxy;
            fastcgi_temp_path {{prefix}}/fastcgi;
            uwsgi_temp_path {{prefix}}/uwsgi;
            scgi_temp_path {{prefix}}/scgi;

            server {
                listen 127.0.0.1:{{port}};
                root {{root}};
            }
        }
        """;
}
