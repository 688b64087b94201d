using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;

namespace Actors.Benchmarks.Kestrel;

/// <summary>
/// The `kestrel` sub-command: the smallest stock ASP.NET Core static-file server, the baseline a
/// .NET developer would otherwise pick. Logging is off, as it is for nginx (access_log off).
/// </summary>
public static class KestrelBaseline
{
    public static int Run(string root, int port)
    {
        var fullRoot = Path.GetFullPath(root);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = fullRoot,
            WebRootPath = fullRoot,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, port));

        var app = builder.Build();
        app.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(fullRoot) });
        app.Run();
        return 0;
    }
}
