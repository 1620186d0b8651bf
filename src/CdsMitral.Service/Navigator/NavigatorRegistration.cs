namespace CdsMitral.Service.Navigator;

public static class NavigatorRegistration
{
    public static IServiceCollection AddNavigator(this IServiceCollection services)
    {
        services.AddOptions<NavigatorOptions>().BindConfiguration(NavigatorOptions.Section);
        services.AddSingleton<NavigatorSessions>();
        services.AddSingleton<NavigatorIssuers>();
        services.AddTransient<SmartClient>();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "cdsmitral-nav-af";
            o.Cookie.Path = "/navigator";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    public static WebApplication MapNavigator(this WebApplication app)
    {
        app.MapNavigatorEndpoints();
        return app;
    }
}
