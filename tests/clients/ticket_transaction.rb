#!/usr/bin/ruby
# The field's transaction from Ruby's mysql2 (ruby-mysql2): begin; SELECT
# ... FOR UPDATE a ticket; update it; log it; killed while idle; update it
# again; commit. As tests/clients/php/ticket_transaction.php, whose step
# lines and outcome it prints, so that one test checks both.
#
# usage: ticket_transaction.rb TICKET [none|changed|now|insert-id]
# mysql2 sends text statements (values escaped by the application) and
# stores every result (mysql_store_result).
require 'mysql2'
$stdout.sync = true

def env(name)
  ENV.fetch(name) { abort "ticket_transaction.rb: #{name} is not set (run under scripts/with-test-server)" }
end

def connect_as(user, password)
  Mysql2::Client.new(username: env(user), password: env(password), database: env('GONESHIM_TEST_DB'),
                     socket: env('GONESHIM_TEST_SOCKET'), reconnect: false)
end

def kill_connection(id)
  admin = connect_as('GONESHIM_TEST_ADMIN_USER', 'GONESHIM_TEST_ADMIN_PASSWORD')
  admin.query("KILL #{id}")
  200.times do
    break if admin.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id = #{id}").first['n'].zero?
    sleep 0.005
  end
  admin.close
end

ticket = Integer(ARGV[0])
twist = ARGV[1] || 'none'
db = connect_as('GONESHIM_TEST_USER', 'GONESHIM_TEST_PASSWORD')
id = db.thread_id
$failed_at = nil

step = lambda do |name, sql|
  next if $failed_at
  begin
    db.query(sql).to_a
    puts "#{name}: ok"
  rescue Mysql2::Error => e
    puts "#{name}: error #{e.error_number}"
    $failed_at = name
  end
end

step.call('begin', 'START TRANSACTION')
step.call('select for update', "SELECT id, status, version FROM tickets WHERE id = #{ticket} FOR UPDATE")
step.call('update 1', "UPDATE tickets SET status = 'taken', version = version + 1 WHERE id = #{ticket}")
step.call('log', "INSERT INTO ticket_log (ticket_id, note) VALUES (#{ticket}, 'taken')")
if twist == 'insert-id'
  log_id = db.last_id
  puts "log id: #{log_id}"
  step.call('log child', "INSERT INTO ticket_log (ticket_id, note, parent_id) VALUES (#{ticket}, 'child', #{log_id})")
end
if twist == 'now'
  step.call('read now', 'SELECT NOW(6)')
  sleep 0.02
end
kill_connection(id)
if twist == 'changed'
  admin = connect_as('GONESHIM_TEST_ADMIN_USER', 'GONESHIM_TEST_ADMIN_PASSWORD')
  admin.query("UPDATE #{env('GONESHIM_TEST_DB')}.tickets SET version = version + 10 WHERE id = #{ticket}")
  admin.close
end
step.call('update 2', "UPDATE tickets SET status = 'done' WHERE id = #{ticket}")
step.call('commit', 'COMMIT')
if $failed_at
  begin
    db.query('ROLLBACK')
    puts 'rollback: ok'
  rescue Mysql2::Error => e
    puts "rollback: error #{e.error_number}"
  end
  begin
    db.query('START TRANSACTION')
    db.query("INSERT INTO ticket_log (ticket_id, note) VALUES (#{ticket}, 'after')")
    db.query('COMMIT')
    puts 'next transaction: ok'
  rescue Mysql2::Error => e
    puts "next transaction: error #{e.error_number}"
  end
end
puts "outcome=#{$failed_at ? "failed-at:#{$failed_at}" : 'committed'}"
db.close
