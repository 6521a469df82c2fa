#!/usr/bin/ruby
# A naive long-lived queue worker using the mysql2 gem (ruby-mysql2).
#
# It connects once, keeps its client object for its whole life and never
# reconnects or pings (reconnect: false): it shows what the raw client
# library does when the server goes away (and what goneshim hides when
# preloaded).
#
# Connection from GONESHIM_TEST_{SOCKET,HOST,PORT,DB,USER,PASSWORD}.
# Prints one line `acked=K errors=E iterations=N`; exit 0 iff E == 0.
require 'mysql2'
require 'optparse'

PROG = File.basename($0)
$stdout.sync = true
$stderr.sync = true

opts = { transport: 'socket', iterations: 20, idle_ms: 400, tag: "#{PROG}-#{Process.pid}" }
OptionParser.new do |o|
  o.banner = "usage: #{PROG} [--transport socket|tcp] [--iterations N] [--idle-ms M] [--tag TEXT]"
  o.on('--transport T', %w[socket tcp]) { |v| opts[:transport] = v }
  o.on('--iterations N', Integer) { |v| opts[:iterations] = v }
  o.on('--idle-ms M', Integer) { |v| opts[:idle_ms] = v }
  o.on('--tag TEXT', String) { |v| opts[:tag] = v }
end.parse!

def env(name)
  ENV.fetch(name) { abort "#{PROG}: #{name} is not set (run under scripts/with-test-server)" }
end

params = {
  username: env('GONESHIM_TEST_USER'),
  password: env('GONESHIM_TEST_PASSWORD'),
  database: env('GONESHIM_TEST_DB'),
  reconnect: false,
}
if opts[:transport] == 'socket'
  params[:socket] = env('GONESHIM_TEST_SOCKET')
else
  params[:host] = env('GONESHIM_TEST_HOST')
  params[:port] = Integer(env('GONESHIM_TEST_PORT'))
end

acked = 0
errors = 0
report = lambda do |where, e|
  errors += 1
  $stderr.puts "#{PROG}: #{where}: (#{e.error_number.to_i}, '#{e.message}')"
end

begin
  client = Mysql2::Client.new(params)
rescue Mysql2::Error => e
  report.call('connect', e)
  puts "acked=0 errors=#{errors} iterations=0"
  exit 1
end

begin
  client.query('CREATE TABLE IF NOT EXISTS worker_log (' \
               ' id BIGINT AUTO_INCREMENT PRIMARY KEY,' \
               ' tag VARCHAR(64) NOT NULL,' \
               ' n INT NOT NULL,' \
               ' KEY (tag)) ENGINE=InnoDB')
rescue Mysql2::Error => e
  report.call('create table', e)
end

# Escape once, while connected (escape itself needs a live connection).
tag_sql = client.escape(opts[:tag])

done = 0
(1..opts[:iterations]).each do |i|
  where = "iteration #{i}"
  begin
    client.query('SELECT CONNECTION_ID()').to_a
  rescue Mysql2::Error => e
    report.call(where, e)
  end
  begin
    client.query("INSERT INTO worker_log (tag, n) VALUES ('#{tag_sql}', #{i})")
    acked += 1
  rescue Mysql2::Error => e
    report.call(where, e)
  end
  done = i
  sleep(opts[:idle_ms] / 1000.0) if opts[:idle_ms] > 0
end

puts "acked=#{acked} errors=#{errors} iterations=#{done}"
exit(errors.zero? ? 0 : 1)
