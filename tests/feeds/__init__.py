"""The spot and Goldback feed plugins, run as `scrapy crawl spot|goldback` against local stand-ins."""
