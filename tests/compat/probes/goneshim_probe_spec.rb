# goneshim compat probe (not an upstream test), run by tests/compat/run-compat
# in the same rspec invocation as mysql2's spec/: is goneshim loaded in this
# ruby, which mysql2 is it, and what does a killed idle connection do?
require './spec/spec_helper'

RSpec.describe 'goneshim_probe' do
  it 'records what it sees' do
    loaded = File.read('/proc/self/maps').include?('libgoneshim')
    admin = new_client
    a = new_client
    admin.query("KILL CONNECTION #{a.thread_id}")
    sleep 0.3
    after = begin
      a.query('SELECT 1').to_a
      'ok'
    rescue Mysql2::Error => e
      "error #{e.error_number}"
    end
    so = $LOADED_FEATURES.grep(%r{mysql2/mysql2\.so}).first
    File.write(ENV.fetch('COMPAT_PROBE_OUT'),
               "loaded=#{loaded ? 'yes' : 'no'}\nclient=mysql2 #{Mysql2::VERSION} #{so}\nafter_kill=#{after}\n")
  end
end
